namespace AccelBroker.Broker.Tokens;

/// <summary>Where the broker's signing keys are kept: in memory, or a file in the data directory.</summary>
internal interface ISigningKeyStore
{
    IReadOnlyList<SigningKey> Load();

    void Save(IReadOnlyList<SigningKey> keys);
}
