using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Verifies an https server against the CAs of a PEM file, or the system store without one, and says why a
/// certificate is refused: the default check only says that the callback or the chain rejected it.
/// </summary>
internal static class ServerTrust
{
    private static readonly ConcurrentDictionary<string, Lazy<X509Certificate2Collection>> Roots = new(StringComparer.Ordinal);

    /// <summary>The validation callback; a CA file is read now, so a bad one fails here.</summary>
    /// <exception cref="InvalidDataException">The CA file holds no PEM certificate.</exception>
    /// <exception cref="IOException">The CA file cannot be read.</exception>
    public static RemoteCertificateValidationCallback Callback(string? caFile)
    {
        if (caFile is null)
        {
            return (_, certificate, _, errors) => errors == SslPolicyErrors.None
                ? true
                : throw Refused(certificate, errors, "the system store (pass a CA file for a private CA)", chainStatus: null);
        }

        X509Certificate2Collection roots = Roots.GetOrAdd(Path.GetFullPath(caFile), path => new Lazy<X509Certificate2Collection>(() => Load(path))).Value;
        return (_, certificate, _, errors) => Check(certificate, errors, roots, caFile);
    }

    private static X509Certificate2Collection Load(string caFile)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"CA file {caFile} is not PEM: {ex.Message}", ex);
        }

        return roots.Count > 0 ? roots : throw new InvalidDataException($"CA file {caFile} holds no PEM certificate");
    }

    private static bool Check(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots, string caFile)
    {
        // Only the trust anchor is replaced: a missing certificate or a name mismatch is refused as usual.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            throw Refused(certificate, errors, caFile, chainStatus: null);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf)
            ? true
            : throw Refused(certificate, SslPolicyErrors.RemoteCertificateChainErrors, caFile, string.Join(", ", chain.ChainStatus.Select(s => s.Status)));
    }

    // An IOException, as a failed connection is: gRPC reports the call as Unavailable with this message in its detail.
    private static IOException Refused(X509Certificate? certificate, SslPolicyErrors errors, string trust, string? chainStatus)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return new IOException("the server presented no certificate");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return new IOException($"the server's certificate ({certificate.Subject}) does not name the host dialled");
        }

        string why = chainStatus is null ? "" : $" ({chainStatus})";
        return new IOException($"the server's certificate ({certificate.Subject}) is not trusted: it does not chain to a CA in {trust}{why}");
    }
}
