using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccelBroker.Cli.Certificates;

/// <summary>Makes a private CA and the certificates it issues: ECDSA P-256, SHA-256, real X.509 extensions.</summary>
internal static class CertificateFactory
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    // Clocks of the machines in a fleet differ a little: a certificate made now must already be valid there.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>A self-signed CA certificate with its private key, allowed to sign end-entity certificates only.</summary>
    public static X509Certificate2 CreateAuthority(string name, int days, DateTimeOffset now)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(now - ClockSkew, now.AddDays(days));
    }

    /// <summary>
    /// A server (or, with <paramref name="client"/>, client) certificate signed by <paramref name="authority"/>, with
    /// its private key. With neither DNS names nor addresses, the subject name is its one DNS name.
    /// </summary>
    public static X509Certificate2 Issue(
        X509Certificate2 authority, string name, IReadOnlyList<string> dnsNames, IReadOnlyList<IPAddress> addresses, bool client, int days, DateTimeOffset now)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([client ? ClientAuth : ServerAuth], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (string dns in dnsNames.Count == 0 && addresses.Count == 0 ? [name] : dnsNames)
        {
            san.AddDnsName(dns);
        }

        foreach (IPAddress address in addresses)
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // A certificate outliving its issuer would not chain at the end of its life.
        DateTimeOffset notAfter = now.AddDays(days);
        if (notAfter > authority.NotAfter)
        {
            notAfter = authority.NotAfter;
        }

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive, as RFC 5280 asks
        using X509Certificate2 certificate = request.Create(authority, now - ClockSkew, notAfter, serial);
        return certificate.CopyWithPrivateKey(key);
    }

    private static X500DistinguishedName Subject(string name)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(name);
        return builder.Build();
    }
}
