namespace AccelBroker.Broker;

/// <summary>
/// The broker cannot start with the given settings: invalid options, catalogue, or a data directory whose store cannot be used.
/// The message names the file or setting and the problem.
/// </summary>
public sealed class BrokerConfigurationException : Exception
{
    /// <summary>Creates the exception with a message for the operator.</summary>
    public BrokerConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message for the operator and its cause.</summary>
    public BrokerConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
