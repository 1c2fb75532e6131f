using AccelBroker.Tests.Logging;
using Xunit;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("AccelBroker.Tests.Logging.SuiteScanLastOrderer", "AccelBroker.Testing")]

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// The last collection of each test project (see <see cref="SuiteScanLastOrderer"/>): by then every log line the
/// project's hosts wrote (in-process hosts through the recording, test-output and scanning providers; broker and agent
/// processes through their captured output) has passed <see cref="SecretScan.Suite"/>. Linked into each test project.
/// </summary>
[CollectionDefinition(SuiteScanLastOrderer.LastCollection, DisableParallelization = true)]
public sealed class SuiteSecretScanCollection;

[Collection(SuiteScanLastOrderer.LastCollection)]
public sealed class SuiteSecretScanTests(ITestOutputHelper output)
{
    [Fact]
    public void NoSecretAppearsInAnyLogLineTheSuiteWrote()
    {
        SecretScan scan = SecretScan.Suite;
        output.WriteLine($"{scan.LinesInspected} log lines inspected");
        Assert.True(scan.Violations.Count == 0, $"secrets in {scan.Violations.Count} log line(s):\n{string.Join("\n", scan.Violations.Take(20))}");
    }
}
