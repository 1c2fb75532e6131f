namespace AccelBroker.Agent.Registration;

/// <summary>
/// Whether this agent is registered with its broker, for readiness: a standalone agent (no broker) counts as
/// registered. Set by <see cref="BrokerRegistration"/>; the reason never carries a credential or a server's message.
/// </summary>
internal sealed class RegistrationState
{
    private volatile Snapshot _current;

    public RegistrationState(AgentOptions options)
    {
        _current = options.BrokerAddress is null
            ? new Snapshot(true, "standalone: no broker to register with")
            : new Snapshot(false, $"not registered with broker {options.BrokerAddress} yet");
    }

    public bool IsRegistered => _current.Registered;

    /// <summary>Why the agent is, or is not, registered, in words for the health check's description.</summary>
    public string Reason => _current.Reason;

    public void Registered(string broker, string agentId) => _current = new Snapshot(true, $"registered with broker {broker} as {agentId}");

    /// <summary>Registration failed; an agent registered before stays so only when <paramref name="keepsRegistration"/>.</summary>
    public void Failed(string reason, bool keepsRegistration)
    {
        if (keepsRegistration && _current.Registered)
        {
            return;
        }

        _current = new Snapshot(false, reason);
    }

    private sealed record Snapshot(bool Registered, string Reason);
}
