using System.Text.RegularExpressions;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Execution;

/// <summary>Maps libtorch failures to domain failures that carry TorchScript's own message.</summary>
internal static partial class TorchErrors
{
    private const int MaxDetail = 1500;

    public static DomainException ToDomain(Exception exception, string what)
    {
        string message = Clean(exception.Message);
        DomainErrorKind kind = message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            ? DomainErrorKind.ResourceExhausted
            : DomainErrorKind.InvalidInput;
        return new DomainException(kind, $"{what}: {message}");
    }

    /// <summary>
    /// libtorch appends C++ frames ("Exception raised from … frame #0 …", or the frames alone after an enforce
    /// failure) that mean nothing to a client and tell an attacker where libraries are loaded and installed, and
    /// the interpreter puts the actual error (RuntimeError: …) after its serialized traceback: lead with it, and
    /// keep no frame, load address or directory (file names stay, so "inline_container.cc:227" still says where).
    /// </summary>
    internal static string Clean(string message)
    {
        int frames = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        string text = (frames >= 0 ? message[..frames] : message).Trim();
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !FrameLine().IsMatch(line))
            .Select(Scrub)
            .ToArray();
        string? error = lines.LastOrDefault(l => ErrorLine().IsMatch(l));
        string result = error is null
            ? string.Join(" ", lines)
            : $"{error} (TorchScript: {string.Join(" ", lines.Where(l => l != error))})";
        return result.Length <= MaxDetail ? result : result[..MaxDetail] + " …";
    }

    private static string Scrub(string line) =>
        PathWithDirectories().Replace(Address().Replace(line, "<address>"), path => Path.GetFileName(path.Value));

    [GeneratedRegex(@"^[A-Za-z]*Error: ")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"^frame #\d+")]
    private static partial Regex FrameLine();

    // A hex number with a letter in it, or of nine digits or more: not a shape such as "0x15" (0 rows, 15 columns).
    [GeneratedRegex(@"\b0x(?:(?=[0-9]*[A-Fa-f])[0-9A-Fa-f]+|[0-9]{9,})\b")]
    private static partial Regex Address();

    // An absolute (/a/b…) or parent-relative (../a/b…) path of two or more parts; not a URL's "//host/…", not a/b.
    [GeneratedRegex(@"(?<![\w.~:/-])(?:\.\.)?(?:/[\w.+~@-]+){2,}")]
    private static partial Regex PathWithDirectories();
}
