namespace AccelBroker.Broker.Security;

/// <summary>Who made a call, as the broker authenticated it: safe to log (no secret).</summary>
/// <param name="KeyId">Public id of the credential.</param>
/// <param name="Name">Its name.</param>
/// <param name="Role">What it may do.</param>
/// <param name="Host">The host of a host credential.</param>
internal sealed record Caller(string KeyId, string Name, AccessRole Role, string? Host)
{
    /// <summary>Whether this caller holds <paramref name="role"/> or a role above it (host credentials hold none).</summary>
    public bool Holds(AccessRole role) => Role != AccessRole.Host && Role >= role;

    public override string ToString() => $"'{Name}' ({KeyId})";
}
