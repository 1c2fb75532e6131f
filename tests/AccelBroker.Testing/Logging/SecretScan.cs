using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace AccelBroker.Tests.Logging;

/// <summary>
/// Looks for secrets in log lines: every secret shape the product issues (API keys <c>abk_</c>, host credentials
/// <c>abh_</c>, enrolment tokens <c>abe_</c> and agent credentials <c>aba_</c> with their secret part, compact JWTs,
/// PEM private keys) and any exact string registered by the test that used it. <see cref="Suite"/> is fed by every log
/// sink of the test suite (the recording and test-output providers, <see cref="ScanningLoggerProvider"/>, the output of
/// real broker and agent processes), and the suite's last test asserts that it found nothing. Violations never quote a
/// secret: they show where it was, its kind and length.
/// </summary>
public sealed partial class SecretScan
{
    private readonly ConcurrentDictionary<string, byte> _registered = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private long _lines;

    /// <summary>The scan every log sink of this test process reports to.</summary>
    public static SecretScan Suite { get; } = new();

    /// <summary>Log lines inspected so far.</summary>
    public long LinesInspected => Interlocked.Read(ref _lines);

    /// <summary>Where a secret appeared, its kind and length; never the secret.</summary>
    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Adds a secret without a recognisable shape (or one a test wants named) to look for.</summary>
    public void Register(string secret)
    {
        // Short strings would match ordinary words.
        if (secret.Length >= 16)
        {
            _registered.TryAdd(secret, 0);
        }
    }

    /// <summary>Checks one log line (or message with its exception) from <paramref name="source"/>.</summary>
    public void Inspect(string source, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        Interlocked.Increment(ref _lines);
        foreach (Match match in Shapes().Matches(text))
        {
            _violations.Enqueue($"{source}: {KindOf(match.Value)} of {match.Length} characters at offset {match.Index} of a {text.Length}-character line");
        }

        foreach (string secret in _registered.Keys)
        {
            int at = text.IndexOf(secret, StringComparison.Ordinal);
            if (at >= 0)
            {
                _violations.Enqueue($"{source}: a registered secret of {secret.Length} characters at offset {at} of a {text.Length}-character line");
            }
        }
    }

    private static string KindOf(string value) => value switch
    {
        _ when value.StartsWith("abk_", StringComparison.Ordinal) => "an API key",
        _ when value.StartsWith("abh_", StringComparison.Ordinal) => "a host credential",
        _ when value.StartsWith("abe_", StringComparison.Ordinal) => "an enrolment token",
        _ when value.StartsWith("aba_", StringComparison.Ordinal) => "an agent credential",
        _ when value.StartsWith("-----", StringComparison.Ordinal) => "a PEM private key",
        _ => "a JWT",
    };

    // prefix_<16 hex id>_<secret>: the id alone may be logged (it names the key), the secret part never. A JWT: a
    // base64url JSON header ("eyJ"), a payload and a signature. A PEM private key block header.
    [GeneratedRegex(@"\bab[khea]_[0-9a-f]{16}_[A-Za-z0-9_\-]{20,}|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex Shapes();
}
