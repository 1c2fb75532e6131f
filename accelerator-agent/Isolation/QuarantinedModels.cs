using System.Collections.Concurrent;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// Model bytes that crashed a loader, by SHA-256, with how. A second load of them is refused at once: they are
/// never run again on this agent.
/// </summary>
internal sealed class QuarantinedModels
{
    private readonly ConcurrentDictionary<string, string> _crashes = new(StringComparer.Ordinal);

    public void Add(string sha256, string crash) => _crashes.TryAdd(sha256, crash);

    public bool TryGet(string sha256, out string crash) => _crashes.TryGetValue(sha256, out crash!);

    public int Count => _crashes.Count;
}
