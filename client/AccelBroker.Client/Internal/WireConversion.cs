using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Client.Internal;

/// <summary>Client tensors to and from the wire, without copying where the bytes can be shared.</summary>
internal static class WireConversion
{
    public static DataType ToWire(TensorDataType dataType) => dataType switch
    {
        TensorDataType.Float32 => DataType.Float32,
        TensorDataType.Float64 => DataType.Float64,
        TensorDataType.Float16 => DataType.Float16,
        TensorDataType.BFloat16 => DataType.Bfloat16,
        TensorDataType.Int64 => DataType.Int64,
        TensorDataType.Int32 => DataType.Int32,
        TensorDataType.Int16 => DataType.Int16,
        TensorDataType.Int8 => DataType.Int8,
        TensorDataType.UInt8 => DataType.Uint8,
        TensorDataType.Bool => DataType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "unknown data type"),
    };

    public static TensorDataType FromWire(DataType dataType) => dataType switch
    {
        DataType.Float32 => TensorDataType.Float32,
        DataType.Float64 => TensorDataType.Float64,
        DataType.Float16 => TensorDataType.Float16,
        DataType.Bfloat16 => TensorDataType.BFloat16,
        DataType.Int64 => TensorDataType.Int64,
        DataType.Int32 => TensorDataType.Int32,
        DataType.Int16 => TensorDataType.Int16,
        DataType.Int8 => TensorDataType.Int8,
        DataType.Uint8 => TensorDataType.UInt8,
        DataType.Bool => TensorDataType.Bool,
        _ => throw new InvalidDataException($"the agent returned unknown dtype {(int)dataType}"),
    };

    /// <summary>A tensor proto; with <paramref name="includeData"/> false, only its metadata (for streaming headers).</summary>
    /// <remarks>The tensor's bytes are immutable through its public API, so the message can share them.</remarks>
    public static TensorProto ToProto(Tensor tensor, bool compress, bool includeData = true) =>
        TensorProtos.Create(ToWire(tensor.DataType), tensor.Shape, tensor.Data, compress, includeData);

    public static Tensor FromProto(TensorProto proto)
    {
        ReadOnlyMemory<byte> data = proto.Compression == Compression.Lz4
            ? Lz4Block.Decompress(proto.Data.Span, proto.RawLength)
            : proto.Data.Memory;
        return new Tensor(FromWire(proto.Dtype), proto.Shape.ToArray(), data);
    }

    public static OutputKind FromWire(Protocol.V1.OutputKind kind) => kind switch
    {
        Protocol.V1.OutputKind.Tuple => OutputKind.Tuple,
        Protocol.V1.OutputKind.List => OutputKind.List,
        _ => OutputKind.Tensor,
    };

    public static AgentTiming FromWire(RunTiming? timing) => timing is null
        ? default
        : new AgentTiming(
            TimeSpan.FromSeconds(timing.QueueSeconds),
            TimeSpan.FromSeconds(timing.DecodeSeconds),
            TimeSpan.FromSeconds(timing.ComputeSeconds),
            TimeSpan.FromSeconds(timing.EncodeSeconds));

    /// <summary>The words <see cref="AcceleratorInfo.Status"/> has always used; empty when the broker said nothing.</summary>
    public static string FromWire(AgentHealth health) => health switch
    {
        AgentHealth.Healthy => "healthy",
        AgentHealth.Unhealthy => "unhealthy",
        _ => "",
    };

    public static Precision ToWire(ModelPrecision precision) => precision switch
    {
        ModelPrecision.Fp16 => Precision.Fp16,
        ModelPrecision.Bf16 => Precision.Bf16,
        _ => Precision.Fp32,
    };
}
