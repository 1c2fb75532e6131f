using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// How a host's own outgoing calls (broker to agent, agent to broker) verify an https peer: against a private CA
/// given as a PEM file, or the system store when none is given.
/// </summary>
public static class ServerTrust
{
    /// <summary>
    /// A channel to <paramref name="address"/>; with <paramref name="caFile"/>, an https server must present a
    /// certificate that chains to a CA in that file and names the address's host.
    /// </summary>
    public static GrpcChannel Channel(string address, string? caFile) =>
        caFile is null
            ? GrpcChannel.ForAddress(address)
            : GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = Handler(caFile) });

    /// <summary>A handler that trusts only the CAs in <paramref name="caFile"/> (PEM, one or more certificates).</summary>
    /// <exception cref="InvalidDataException">The file holds no PEM certificate.</exception>
    public static SocketsHttpHandler Handler(string caFile)
    {
        X509Certificate2Collection roots = LoadRoots(caFile);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots, caFile),
            },
        };
    }

    /// <summary>The certificates of a PEM file; throws <see cref="InvalidDataException"/> naming the file when there are none.</summary>
    public static X509Certificate2Collection LoadRoots(string caFile)
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

    // Only the trust anchor is replaced: a missing certificate or a name mismatch is refused as usual. Refusals are
    // IOExceptions, as a failed connection is, so the call is Unavailable and its detail (and the log) says why.
    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots, string caFile)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            throw new IOException(certificate is null
                ? "the peer presented no certificate"
                : $"the peer's certificate ({certificate.Subject}) does not name the host dialled ({errors})");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf)
            ? true
            : throw new IOException($"the peer's certificate ({certificate.Subject}) is not trusted: it does not chain to a CA in {caFile} ({string.Join(", ", chain.ChainStatus.Select(s => s.Status))})");
    }
}
