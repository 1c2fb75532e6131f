namespace AccelBroker.Client.Pricing;

/// <summary>An instance type and its on-demand price.</summary>
/// <param name="Name">Instance type, e.g. <c>c5.large</c>.</param>
/// <param name="PricePerHour">US dollars per hour.</param>
/// <param name="Kind"><c>cpu</c> or <c>gpu</c>: how a standalone instance of this type is measured.</param>
/// <param name="VCpus">Virtual CPUs; 0 when not given.</param>
/// <param name="Gpu">GPU model of a gpu instance, e.g. <c>NVIDIA T4</c>.</param>
public sealed record InstancePrice(string Name, double PricePerHour, string Kind, int VCpus, string? Gpu)
{
    /// <summary>The <see cref="Kind"/> of CPU-only instances.</summary>
    public const string CpuKind = "cpu";

    /// <summary>The <see cref="Kind"/> of instances with a GPU.</summary>
    public const string GpuKind = "gpu";
}
