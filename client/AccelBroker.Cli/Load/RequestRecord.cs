using Grpc.Core;

namespace AccelBroker.Cli.Load;

/// <summary>
/// One call as the load engine saw it, times from the start of the run. <see cref="LatencyMs"/> runs from the
/// intended start, so a call that an open loop could only issue late shows the queueing it met (no coordinated
/// omission); in a closed loop the intended and actual starts are the same.
/// </summary>
internal readonly record struct RequestRecord(TimeSpan IntendedStart, TimeSpan Start, double LatencyMs, StatusCode Status)
{
    public bool Succeeded => Status == StatusCode.OK;

    public TimeSpan Completed => IntendedStart + TimeSpan.FromMilliseconds(LatencyMs);

    /// <summary>Latency from the actual start: what the call alone took.</summary>
    public double ServiceMs => LatencyMs - (Start - IntendedStart).TotalMilliseconds;
}
