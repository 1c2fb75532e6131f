using Xunit;

namespace AccelBroker.Tests.Broker;

/// <summary>
/// Tests that point the process's <see cref="Console.Error"/> at a writer to read what the broker's Main printed:
/// one at a time, since the console is process-wide and test classes run in parallel.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessConsoleCollection
{
    public const string Name = "Process console";
}
