namespace AccelBroker.Broker.Security;

/// <summary>The content of <c>api-keys.json</c>.</summary>
internal sealed record ApiKeysDocument(int Version, IReadOnlyList<ApiKeyRecord> Keys)
{
    public const int CurrentVersion = 1;
}
