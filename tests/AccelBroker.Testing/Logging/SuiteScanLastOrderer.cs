using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AccelBroker.Tests.Logging;

/// <summary>
/// xunit's default collection order, with the suite's secret-scan collection moved to the end: xunit runs collections
/// that disable parallelization after all the others, in this order, so the scan sees every other test's logs.
/// </summary>
public sealed class SuiteScanLastOrderer : ITestCollectionOrderer
{
    /// <summary>The display name of the collection that must run last.</summary>
    public const string LastCollection = "Suite secret scan";

    private readonly DefaultTestCollectionOrderer _default = new();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        _default.OrderTestCollections(testCollections).OrderBy(c => c.DisplayName.Contains(LastCollection, StringComparison.Ordinal) ? 1 : 0);
}
