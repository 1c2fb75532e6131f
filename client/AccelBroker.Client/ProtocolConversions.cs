using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Client;

/// <summary>
/// The client's types as the versioned protocol (<c>accelbroker.v1</c>) names them, for code that calls an API speaking
/// the protocol's types, such as the agent's in-process <c>PreparedModel</c>. The same mapping the client sends.
/// </summary>
public static class ProtocolConversions
{
    /// <summary>Gets the protocol's data type for an element type.</summary>
    /// <param name="dataType">The element type.</param>
    /// <returns>The protocol's value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dataType"/> is not a defined value.</exception>
    public static DataType ToProtocol(this TensorDataType dataType) => WireConversion.ToWire(dataType);

    /// <summary>Gets the protocol's precision for a model precision.</summary>
    /// <param name="precision">The precision.</param>
    /// <returns>The protocol's value.</returns>
    public static Precision ToProtocol(this ModelPrecision precision) => WireConversion.ToWire(precision);
}
