using Xunit;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// Tests that compare throughputs measured over time windows run after the others, alone: on a 2-core machine the
/// other test classes running in parallel would load one window more than another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveCollection
{
    public const string Name = "Timing-sensitive";
}
