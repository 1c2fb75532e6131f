using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// A certificate from a PEM certificate and key file, reloaded when either file's write time changes (checked at most
/// once per <see cref="CheckInterval"/>), so a renewed certificate is used without a restart: the server certificate
/// a host serves, or the client certificate it presents on its own calls.
/// </summary>
internal sealed class ReloadingCertificate
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    private readonly string _certificateFile;
    private readonly string _keyFile;
    private readonly (string Certificate, string Key) _flags;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;
    private (DateTime Certificate, DateTime Key) _loadedStamps;
    private long _lastCheck;

    /// <summary>Loads the files now, so that bad ones fail the start rather than the first handshake.</summary>
    /// <exception cref="InvalidDataException">The files are not a PEM certificate and its key.</exception>
    /// <param name="certificateFile">PEM certificate file.</param>
    /// <param name="keyFile">PEM private key file.</param>
    /// <param name="time">When to check the files again.</param>
    /// <param name="flags">The options that named the files, for the message when they are not usable.</param>
    public ReloadingCertificate(string certificateFile, string keyFile, TimeProvider time, (string Certificate, string Key)? flags = null)
    {
        _certificateFile = certificateFile;
        _keyFile = keyFile;
        _flags = flags ?? ("--tls-cert", "--tls-key");
        _time = time;
        _loadedStamps = Stamps();
        _current = Load();
        _lastCheck = time.GetTimestamp();
    }

    public X509Certificate2 Current
    {
        get
        {
            lock (_lock)
            {
                if (_time.GetElapsedTime(_lastCheck) >= CheckInterval)
                {
                    _lastCheck = _time.GetTimestamp();
                    Reload();
                }

                return _current;
            }
        }
    }

    private void Reload()
    {
        (DateTime Certificate, DateTime Key) stamps = Stamps();
        if (stamps == _loadedStamps)
        {
            return;
        }

        try
        {
            // The old certificate stays in use by handshakes in flight and is left to the finalizer.
            _current = Load();
            _loadedStamps = stamps;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // A renewal half written (certificate replaced, key not yet) is retried at the next check.
        }
    }

    private (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_certificateFile), File.GetLastWriteTimeUtc(_keyFile));

    private X509Certificate2 Load()
    {
        try
        {
            X509Certificate2 pem = X509Certificate2.CreateFromPemFile(_certificateFile, _keyFile);
            if (!OperatingSystem.IsWindows())
            {
                return pem;
            }

            // A key from PEM is ephemeral; Windows' TLS stack can only use a persisted one, so round-trip it through PKCS#12.
            using (pem)
            {
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException)
        {
            throw new InvalidDataException($"{_flags.Certificate} {_certificateFile} and {_flags.Key} {_keyFile} are not a PEM certificate and its private key: {ex.Message}", ex);
        }
    }
}
