using AccelBroker.Protocol.Wire;

namespace AccelBroker.Protocol.V1;

// The data-path messages can carry the pooled arrays their bytes live in (see PooledMarshallers): received ones
// hold what parsing rented, sent ones what the serializer gives back once it has copied them out.

/// <summary>A message whose bytes may live in pooled arrays.</summary>
internal interface IPooledMessage
{
    /// <summary>The arrays this message's bytes live in, or null where they are its own.</summary>
    PooledBuffers? Pooled { get; set; }
}

public sealed partial class RunRequest : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}

public sealed partial class RunResponse : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}

public sealed partial class RunStreamRequest : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}

public sealed partial class RunStreamResponse : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}

public sealed partial class EchoRequest : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}

public sealed partial class EchoResponse : IPooledMessage
{
    PooledBuffers? IPooledMessage.Pooled { get; set; }
}
