using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution;

/// <summary>A decoded tensor on its way in or out: dtype, shape and raw little-endian bytes.</summary>
internal sealed record WireTensor(DataType DataType, long[] Shape, ReadOnlyMemory<byte> Data);
