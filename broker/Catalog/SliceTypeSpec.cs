using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Catalog;

/// <summary>One entry of the slice-type catalogue: what a slice of this type reserves on an agent and what it costs.</summary>
internal sealed record SliceTypeSpec(
    string Name,
    long MemoryBytes,
    double ComputeShare,
    double PricePerHour,
    double Fp32Tflops,
    double Fp16Tflops)
{
    public SliceType ToProto() => new()
    {
        Name = Name,
        MemoryBytes = MemoryBytes,
        ComputeShare = ComputeShare,
        PricePerHour = PricePerHour,
        Fp32Tflops = Fp32Tflops,
        Fp16Tflops = Fp16Tflops,
    };
}
