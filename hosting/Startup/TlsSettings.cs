namespace AccelBroker.Hosting.Startup;

/// <summary>The rules both hosts apply to their TLS settings, with the messages users see.</summary>
public static class TlsSettings
{
    /// <summary>
    /// What is wrong with serving <paramref name="listen"/> with this certificate and key, or <see langword="null"/>:
    /// both files or neither, and https exactly when they are given.
    /// </summary>
    public static string? FindProblem(string listen, string? certificateFile, string? keyFile)
    {
        if ((certificateFile is null) != (keyFile is null))
        {
            return certificateFile is null
                ? "--tls-key needs --tls-cert: pass the certificate (PEM) that goes with the key"
                : "--tls-cert needs --tls-key: pass the private key (PEM) that goes with the certificate";
        }

        bool https = Uri.TryCreate(listen, UriKind.Absolute, out Uri? uri) && uri.Scheme == Uri.UriSchemeHttps;
        if (https && certificateFile is null)
        {
            return $"--listen '{listen}' is https: pass --tls-cert FILE and --tls-key FILE (PEM; accel certs issue makes them)";
        }

        if (!https && certificateFile is not null)
        {
            return $"--tls-cert and --tls-key serve https, but --listen '{listen}' is http: listen on an https URL";
        }

        return null;
    }

    /// <summary>
    /// What is wrong with the mutual TLS settings, or <see langword="null"/>: the client certificate and key both or
    /// neither, and <paramref name="clientCaFile"/> only with an https <paramref name="listen"/>, since client
    /// certificates travel only in a TLS handshake.
    /// </summary>
    public static string? FindClientProblem(string listen, string? clientCertificateFile, string? clientKeyFile, string? clientCaFile)
    {
        if ((clientCertificateFile is null) != (clientKeyFile is null))
        {
            return clientCertificateFile is null
                ? "--tls-client-key needs --tls-client-cert: pass the client certificate (PEM) that goes with the key"
                : "--tls-client-cert needs --tls-client-key: pass the private key (PEM) that goes with the client certificate";
        }

        bool https = Uri.TryCreate(listen, UriKind.Absolute, out Uri? uri) && uri.Scheme == Uri.UriSchemeHttps;
        if (clientCaFile is not null && !https)
        {
            return $"--client-ca-file requires client certificates, which only TLS carries, but --listen '{listen}' is http: listen on an https URL with --tls-cert and --tls-key";
        }

        return null;
    }
}
