namespace AccelBroker.Cli.Measuring;

/// <summary>Means of the agent's own timing of each run (RunTiming): where the time went on the agent.</summary>
internal sealed record AgentSplit(double QueueMs, double DecodeMs, double ComputeMs, double EncodeMs);
