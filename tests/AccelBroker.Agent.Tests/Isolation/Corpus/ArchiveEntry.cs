namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>One record of a TorchScript zip archive: its name and either its bytes or its already-deflated content.</summary>
internal sealed class ArchiveEntry
{
    public ArchiveEntry(string name, byte[] data)
    {
        Name = name;
        Data = data;
    }

    public ArchiveEntry(string name, DeflatedContent deflated)
    {
        Name = name;
        Data = [];
        Deflated = deflated;
    }

    public string Name { get; }

    /// <summary>The record's bytes, written stored; empty when <see cref="Deflated"/> is set.</summary>
    public byte[] Data { get; }

    /// <summary>Content written deflated as given (bombs): its declared length need not fit in memory.</summary>
    public DeflatedContent? Deflated { get; }

    /// <summary>The uncompressed length the archive declares.</summary>
    public long Length => Deflated?.Length ?? Data.LongLength;

    public ArchiveEntry WithData(byte[] data) => new(Name, data);

    public ArchiveEntry Renamed(string name) => Deflated is { } d ? new(name, d) : new(name, Data);

    public override string ToString() => $"{Name} ({Length} bytes)";
}
