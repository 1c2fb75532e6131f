namespace AccelBroker.Broker.Usage;

/// <summary>Where <see cref="UsageSaver"/> keeps the usage book. Calls are serialized by the saver.</summary>
internal interface IUsageStore
{
    /// <summary>Where it is kept, for log lines.</summary>
    string Location { get; }

    /// <summary>The saved book, or <see langword="null"/> when nothing was saved yet.</summary>
    /// <exception cref="BrokerConfigurationException">What is stored cannot be read; the message names the store.</exception>
    UsageDocument? Read();

    /// <summary>Replaces what is stored with <paramref name="document"/>; all or nothing.</summary>
    void Write(UsageDocument document);
}
