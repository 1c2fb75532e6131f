namespace AccelBroker.Broker.Security;

/// <summary>One stored API key or host credential: its public id, what it may do and the SHA-256 of its secret.</summary>
/// <param name="Id">Public id, part of the secret.</param>
/// <param name="Name">Who or what holds it (an operator's label, or the host for a host credential).</param>
/// <param name="Role">What it may do.</param>
/// <param name="Host">The host of a <see cref="AccessRole.Host"/> credential; <see langword="null"/> otherwise.</param>
/// <param name="Hash">SHA-256 of the whole secret, base64.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="CreatedBy">Name of the key that made it; <see langword="null"/> for the bootstrap key and host credentials.</param>
/// <param name="RevokedAt">When it was revoked; <see langword="null"/> while live.</param>
internal sealed record ApiKeyRecord(
    string Id,
    string Name,
    AccessRole Role,
    string? Host,
    string Hash,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? RevokedAt)
{
    public bool IsLive => RevokedAt is null;
}
