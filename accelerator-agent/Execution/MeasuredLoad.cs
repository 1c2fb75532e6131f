namespace AccelBroker.Agent.Execution;

/// <summary>What a load was charged, and how long it and its warm-up took.</summary>
internal readonly record struct MeasuredLoad(long ChargedBytes, double LoadSeconds, double WarmupSeconds);
