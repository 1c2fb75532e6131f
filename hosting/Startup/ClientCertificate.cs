using System.Net.Security;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// The client certificate a host presents on its own calls (broker to agents, agent to broker), from
/// <c>--tls-client-cert</c> and <c>--tls-client-key</c>; reloaded when the files change, as the server certificate is.
/// A peer that requires mutual TLS (<c>--client-ca-file</c>) admits the call only with it.
/// </summary>
public sealed class ClientCertificate
{
    private readonly ReloadingCertificate? _certificate;

    private ClientCertificate(ReloadingCertificate? certificate) => _certificate = certificate;

    /// <summary>Presents no certificate.</summary>
    public static ClientCertificate None { get; } = new(null);

    /// <summary>Whether a certificate is presented.</summary>
    public bool IsPresented => _certificate is not null;

    /// <summary>
    /// The certificate in <paramref name="certificateFile"/> with the key in <paramref name="keyFile"/>, read now so that
    /// bad files fail the start; <see cref="None"/> when both are <see langword="null"/>. Check the pair with
    /// <see cref="TlsSettings.FindClientProblem"/> first.
    /// </summary>
    /// <exception cref="InvalidDataException">The files are not a PEM certificate and its key.</exception>
    public static ClientCertificate FromFiles(string? certificateFile, string? keyFile, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return certificateFile is null || keyFile is null
            ? None
            : new ClientCertificate(new ReloadingCertificate(certificateFile, keyFile, time, ("--tls-client-cert", "--tls-client-key")));
    }

    /// <summary>Sets <paramref name="ssl"/> to present the certificate, current at each handshake; does nothing for <see cref="None"/>.</summary>
    internal void Apply(SslClientAuthenticationOptions ssl)
    {
        if (_certificate is { } certificate)
        {
            // Asked per handshake, so a renewed certificate is presented on the next connection without a restart.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate.Current;
        }
    }
}
