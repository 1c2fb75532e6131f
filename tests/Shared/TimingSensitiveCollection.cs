using Xunit;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// Tests that compare throughputs measured over time windows, or that need work done within a short deadline, run
/// after the others, alone: on a 2-core machine the other test classes running in parallel would load one window
/// more than another, or hold up the work past its deadline. Linked into each test project that has such tests,
/// because xunit looks for a collection's definition in the test assembly itself.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveCollection
{
    public const string Name = "Timing-sensitive";
}
