using System.IO.Compression;
using System.Text.RegularExpressions;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// The records of a TorchScript file (a zip written by <c>torch.jit.save</c>), in archive order, to be changed and
/// written back with <see cref="ZipWriter"/>. Records live under one folder, "archive/" for the committed models:
/// <c>data.pkl</c> (the module's pickled state), <c>constants.pkl</c>, <c>version</c>, <c>code/**.py</c> (the
/// TorchScript source; <c>.debug_pkl</c> beside each maps it to the original lines) and <c>data/N</c> (one record
/// per tensor storage, raw little-endian elements).
/// </summary>
internal sealed partial class ModelArchive
{
    private ModelArchive(string prefix, List<ArchiveEntry> entries)
    {
        Prefix = prefix;
        Entries = entries;
    }

    /// <summary>The folder every record is in, with its slash: "archive/".</summary>
    public string Prefix { get; }

    /// <summary>The records in archive order; mutations change this list.</summary>
    public List<ArchiveEntry> Entries { get; }

    /// <summary>TorchScript source files (code/**.py, without their .debug_pkl).</summary>
    public IEnumerable<ArchiveEntry> CodeFiles => Entries.Where(e => IsCode(e.Name));

    /// <summary>Tensor storage records (data/N), in archive order.</summary>
    public IEnumerable<ArchiveEntry> DataRecords => Entries.Where(e => IsDataRecord(e.Name));

    public static ModelArchive Read(byte[] bytes)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
        var entries = new List<ArchiveEntry>();
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            using Stream stream = entry.Open();
            var data = new byte[entry.Length];
            stream.ReadExactly(data);
            entries.Add(new ArchiveEntry(entry.FullName, data));
        }

        ArchiveEntry pickle = entries.FirstOrDefault(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal))
            ?? throw new InvalidDataException("not a TorchScript archive: no data.pkl");
        return new ModelArchive(pickle.Name[..^"data.pkl".Length], entries);
    }

    public ModelArchive Clone() => new(Prefix, [.. Entries]);

    /// <summary>The archive as PyTorch would write it: every record stored and aligned unless told otherwise.</summary>
    public byte[] ToBytes(int alignment = ZipWriter.PyTorchAlignment) => ZipWriter.Write(Entries, alignment);

    public int IndexOf(string relativeName) => Entries.FindIndex(e => e.Name == Prefix + relativeName);

    public ArchiveEntry? Find(string relativeName) => IndexOf(relativeName) is int i and >= 0 ? Entries[i] : null;

    /// <summary>Replaces the record named <paramref name="entry"/>'s name, keeping its place.</summary>
    public void Replace(ArchiveEntry entry)
    {
        int index = Entries.FindIndex(e => e.Name == entry.Name);
        if (index < 0)
        {
            throw new ArgumentException($"no record {entry.Name}", nameof(entry));
        }

        Entries[index] = entry;
    }

    /// <summary>Code files that declare a forward method the mutator can insert a statement into.</summary>
    public IEnumerable<ArchiveEntry> CodeFilesWithForward => CodeFiles.Where(e => ForwardBody(e.Data) is not null);

    /// <summary>
    /// Where a statement can go at the top of the forward's body in TorchScript source, its indentation and the
    /// forward's first argument after self; null if the file has no forward.
    /// </summary>
    public static (int Offset, string Indent, string Argument)? ForwardBody(byte[] source)
    {
        string text = System.Text.Encoding.UTF8.GetString(source);
        Match match = ForwardSignature().Match(text);
        if (!match.Success)
        {
            return null;
        }

        int bodyStart = match.Index + match.Length;
        int indentEnd = bodyStart;
        while (indentEnd < text.Length && text[indentEnd] == ' ')
        {
            indentEnd++;
        }

        // The source is ASCII (TorchScript's printer escapes the rest), so character and byte offsets agree.
        return (bodyStart, text[bodyStart..indentEnd], match.Groups["arg"].Value);
    }

    private bool IsCode(string name) =>
        name.StartsWith(Prefix + "code/", StringComparison.Ordinal) && name.EndsWith(".py", StringComparison.Ordinal);

    private bool IsDataRecord(string name) =>
        name.StartsWith(Prefix + "data/", StringComparison.Ordinal) && name.Length > Prefix.Length + 5 && name[(Prefix.Length + 5)..].All(char.IsAsciiDigit);

    // "def forward(self: T,\n    input: Tensor) -> Tensor:\n": the argument after self, up to the end of the line that
    // closes the signature.
    [GeneratedRegex(@"def forward\(self[^,)]*,\s*(?<arg>[A-Za-z_][A-Za-z_0-9]*)[^)]*\)[^\n]*:[ ]*\n")]
    private static partial Regex ForwardSignature();
}
