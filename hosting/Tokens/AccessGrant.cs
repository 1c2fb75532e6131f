namespace AccelBroker.Hosting.Tokens;

/// <summary>What a verified token grants: scope, the agent it is for, who holds it and, for a slice token, the slice.</summary>
/// <param name="Scope">What the bearer may do.</param>
/// <param name="AgentId">The agent the token is for (its audience).</param>
/// <param name="Subject">Who holds it: the host for a slice token, the API key's name for an operator token, "broker" for control.</param>
/// <param name="SliceId">The slice (accelerator id) of a slice token; <see langword="null"/> otherwise.</param>
/// <param name="ExpiresAt">When the token stops being accepted.</param>
public sealed record AccessGrant(AccessScope Scope, string AgentId, string Subject, string? SliceId, DateTimeOffset ExpiresAt)
{
    /// <summary>Subject of the broker's control tokens.</summary>
    public const string BrokerSubject = "broker";

    /// <summary>
    /// The placement epoch a slice token was issued for (the agent serves the slice only at that epoch); 0 when the token
    /// names none (other scopes, or a broker from before epochs).
    /// </summary>
    public long Epoch { get; init; }

    /// <inheritdoc/>
    public override string ToString() => SliceId is null ? $"{Scope} token of '{Subject}'" : $"{Scope} token of '{Subject}' for slice {SliceId}";
}
