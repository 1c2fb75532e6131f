namespace AccelBroker.Client.Internal;

/// <summary>
/// What a session keeps of a loaded model to load it again on another agent: its hash, its load options, and where its
/// bytes come from (the file, re-read and re-hashed, or the kept copy of the bytes); and where it is loaded now.
/// </summary>
internal sealed class LoadedModel(string sha256, long length, ModelLoadOptions options, string? path, byte[]? bytes)
{
    private ModelOnAgent? _on;

    public string Sha256 { get; } = sha256;

    public long Length { get; } = length;

    public ModelLoadOptions Options { get; } = options;

    /// <summary>Full path of the file it was loaded from; null for bytes.</summary>
    public string? Path { get; } = path;

    /// <summary>The kept copy of the bytes it was loaded from; null for a file, or when keeping bytes is off.</summary>
    public byte[]? Bytes { get; } = bytes;

    /// <summary>One reload at a time: callers that find it missing on a new placement share the first one's load.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The placement it is loaded on and the id its agent gave it (swapped together).</summary>
    public ModelOnAgent? On
    {
        get => Volatile.Read(ref _on);
        set => Volatile.Write(ref _on, value);
    }
}

/// <summary>A model's id on one placement's agent.</summary>
internal sealed record ModelOnAgent(Placement Placement, string ModelId);
