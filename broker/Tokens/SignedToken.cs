namespace AccelBroker.Broker.Tokens;

/// <summary>A token as handed out, and when it expires.</summary>
internal sealed record SignedToken(string Token, DateTimeOffset ExpiresAt)
{
    // The token is a credential: keep it out of any log or debugger display of the record.
    public override string ToString() => $"token expiring {ExpiresAt:u}";
}
