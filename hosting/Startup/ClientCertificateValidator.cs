using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// Decides, during the TLS handshake, whether a client certificate is admitted: it must chain to a CA of
/// <c>--client-ca-file</c> (that file alone is trusted, never the system store), be valid now and allow client
/// authentication. A refused certificate fails the handshake.
/// </summary>
internal sealed class ClientCertificateValidator
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    private readonly X509Certificate2Collection _roots;
    private readonly TimeProvider _time;

    /// <summary>Reads the CA file now, so a bad one fails the start.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read or holds no PEM certificate.</exception>
    public ClientCertificateValidator(string caFile, TimeProvider time)
    {
        _time = time;
        _roots = [];
        try
        {
            _roots.ImportFromPemFile(caFile);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"--client-ca-file {caFile} is not a readable PEM CA bundle: {ex.Message}", ex);
        }

        if (_roots.Count == 0)
        {
            throw new InvalidDataException($"--client-ca-file {caFile} holds no PEM certificate");
        }
    }

    /// <summary>Whether <paramref name="certificate"/> is admitted; <paramref name="why"/> says why not.</summary>
    public bool IsTrusted(X509Certificate2 certificate, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        // A private CA publishes no revocation lists; a compromised client is cut off by reissuing the CA.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (chain.Build(certificate))
        {
            why = "";
            return true;
        }

        why = string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
        return false;
    }
}
