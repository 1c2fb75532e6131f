namespace AccelBroker.Broker.Tokens;

/// <summary>Keeps nothing: without a data directory a restarted broker signs with fresh keys.</summary>
internal sealed class InMemorySigningKeyStore : ISigningKeyStore
{
    public IReadOnlyList<SigningKey> Load() => [];

    public void Save(IReadOnlyList<SigningKey> keys)
    {
    }
}
