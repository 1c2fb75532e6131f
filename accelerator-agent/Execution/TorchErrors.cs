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
    /// libtorch appends C++ frames ("Exception raised from … frame #0 …") that mean nothing to a client, and
    /// the interpreter puts the actual error (RuntimeError: …) after its serialized traceback: lead with it.
    /// </summary>
    internal static string Clean(string message)
    {
        int frames = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        string text = (frames >= 0 ? message[..frames] : message).Trim();
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? error = lines.LastOrDefault(l => ErrorLine().IsMatch(l));
        string result = error is null
            ? string.Join(" ", lines)
            : $"{error} (TorchScript: {string.Join(" ", lines.Where(l => l != error))})";
        return result.Length <= MaxDetail ? result : result[..MaxDetail] + " …";
    }

    [GeneratedRegex(@"^[A-Za-z]*Error: ")]
    private static partial Regex ErrorLine();
}
