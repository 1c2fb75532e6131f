using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Xunit;
using OutputKind = AccelBroker.Client.OutputKind;
using WireOutputKind = AccelBroker.Protocol.V1.OutputKind;

namespace AccelBroker.Tests.Client;

/// <summary>
/// What the client makes of protocol v1's enums: an unspecified value reads as the old zero value did, and the
/// health words of <see cref="AcceleratorInfo.Status"/> stay as they were when the wire carried them.
/// </summary>
public sealed class WireConversionTests
{
    [Theory]
    [InlineData(WireOutputKind.Unspecified, OutputKind.Tensor)]
    [InlineData(WireOutputKind.Tensor, OutputKind.Tensor)]
    [InlineData(WireOutputKind.Tuple, OutputKind.Tuple)]
    [InlineData(WireOutputKind.List, OutputKind.List)]
    public void AnUnspecifiedOutputKindReadsAsATensor(WireOutputKind wire, OutputKind expected) =>
        Assert.Equal(expected, WireConversion.FromWire(wire));

    [Theory]
    [InlineData(Compression.Unspecified)]
    [InlineData(Compression.None)]
    public void AnOutputWhoseCompressionIsUnsetOrNoneIsReadAsItIs(Compression compression)
    {
        Tensor tensor = Tensor.FromArray([1f, 2f, 3f], 1, 3);
        var proto = new TensorProto { Dtype = DataType.Float32, RawLength = 12, Compression = compression, Data = ByteString.CopyFrom(tensor.Data.Span) };
        proto.Shape.AddRange([1, 3]);

        Tensor read = WireConversion.FromProto(proto);

        Assert.Equal([1f, 2f, 3f], read.ToSingleArray());
        Assert.Equal([1L, 3L], read.Shape);
    }

    [Fact]
    public void AnLz4OutputIsDecompressed()
    {
        float[] values = new float[1024];
        Tensor tensor = Tensor.FromArray(values, 1024);

        TensorProto proto = WireConversion.ToProto(tensor, compress: true);

        Assert.Equal(Compression.Lz4, proto.Compression);
        Assert.Equal(values, WireConversion.FromProto(proto).ToSingleArray());
    }

    [Theory]
    [InlineData(AgentHealth.Healthy, "healthy")]
    [InlineData(AgentHealth.Unhealthy, "unhealthy")]
    [InlineData(AgentHealth.Unspecified, "")]
    public void HealthReadsAsTheWordsTheWireUsedToCarry(AgentHealth health, string status) =>
        Assert.Equal(status, WireConversion.FromWire(health));

    [Theory]
    [InlineData(ModelPrecision.Fp32, Precision.Fp32)]
    [InlineData(ModelPrecision.Fp16, Precision.Fp16)]
    [InlineData(ModelPrecision.Bf16, Precision.Bf16)]
    public void ThePrecisionSentIsAlwaysSpecified(ModelPrecision precision, Precision wire) =>
        Assert.Equal(wire, WireConversion.ToWire(precision));
}
