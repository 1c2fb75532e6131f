namespace AccelBroker.Benchmarks;

/// <summary>What a stretch of calls cost per call in page faults, collections and managed allocation.</summary>
internal sealed record PerCallCounts(double Faults, double WorkerFaults, double Gen0, double Gen1, double Gen2, double AllocatedBytes)
{
    public string Describe() =>
        Fmt.Invariant($"per call: {Faults:0.0} page faults in this process, {WorkerFaults:0.0} in the agent's slice workers; GCs gen0 {Gen0:0.000}, gen1 {Gen1:0.000}, gen2 {Gen2:0.000}; {AllocatedBytes / 1e6:0.000} MB allocated (managed, whole process)");
}
