namespace AccelBroker.Agent.Isolation;

/// <summary>A worker process ended while it owed an answer: a model crashed it, or it was killed.</summary>
internal sealed class WorkerCrashedException : Exception
{
    public WorkerCrashedException(string crash, bool alone)
        : base($"the slice's worker process crashed ({crash})")
    {
        Crash = crash;
        Alone = alone;
    }

    /// <summary>How it ended, e.g. "SIGSEGV" or "stack overflow".</summary>
    public string Crash { get; }

    /// <summary>Whether this command was the only one the worker was executing: then the crash is its own.</summary>
    public bool Alone { get; }
}
