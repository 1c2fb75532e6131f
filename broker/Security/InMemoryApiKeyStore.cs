namespace AccelBroker.Broker.Security;

/// <summary>Keys that live as long as the process: the store without a data directory.</summary>
internal sealed class InMemoryApiKeyStore : IApiKeyStore
{
    private IReadOnlyList<ApiKeyRecord> _keys = [];

    public IReadOnlyList<ApiKeyRecord> Load() => _keys;

    public void Save(IReadOnlyList<ApiKeyRecord> keys) => _keys = keys;
}
