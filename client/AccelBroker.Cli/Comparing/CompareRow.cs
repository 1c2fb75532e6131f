using System.Text.Json.Serialization;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// One combination of <c>accel compare</c>: what it is, its price, and what was measured for it here, or why
/// nothing was (never an estimate).
/// </summary>
internal sealed record CompareRow(
    string Instance,
    string Kind,
    string? HostType,
    string? SliceType,
    string? ExecutedOn,
    double PricePerHour,
    LatencySummary? LatencyMs,
    [property: JsonPropertyName("cost_per_100k")] double? CostPer100k,
    bool MeetsSlo,
    string? NotMeasuredReason)
{
    public const string HostAccelerator = "host+accelerator";
    public const string StandaloneGpu = "standalone gpu";
    public const string StandaloneCpu = "standalone cpu";

    public bool Measured => LatencyMs is not null;

    public static string KindOf(string instanceKind) => instanceKind == "gpu" ? StandaloneGpu : StandaloneCpu;
}
