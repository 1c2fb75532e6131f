namespace AccelBroker.Broker.Security;

/// <summary>Where API keys are kept. Calls are serialized by <see cref="ApiKeyBook"/>.</summary>
internal interface IApiKeyStore
{
    /// <summary>Keys saved before; empty on first start.</summary>
    IReadOnlyList<ApiKeyRecord> Load();

    /// <summary>Replaces what is stored with <paramref name="keys"/>; all or nothing.</summary>
    void Save(IReadOnlyList<ApiKeyRecord> keys);
}
