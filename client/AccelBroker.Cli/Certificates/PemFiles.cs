using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AccelBroker.Cli.Certificates;

/// <summary>Writes and reads a certificate and its key as <c>NAME.crt</c> and <c>NAME.key</c> (PEM) in a folder.</summary>
internal static class PemFiles
{
    public static string CertificatePath(string directory, string name) => Path.Combine(directory, name + ".crt");

    public static string KeyPath(string directory, string name) => Path.Combine(directory, name + ".key");

    /// <summary>Refuses to overwrite: a replaced CA key would orphan every certificate it signed.</summary>
    public static void ThrowIfExists(string directory, string name)
    {
        foreach (string path in new[] { CertificatePath(directory, name), KeyPath(directory, name) })
        {
            if (File.Exists(path))
            {
                throw new IOException($"{path} already exists; remove it or choose another --out");
            }
        }
    }

    public static void Write(string directory, string name, X509Certificate2 certificate)
    {
        Directory.CreateDirectory(directory);
        using ECDsa key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA private key");
        // The key is written first and readable by its owner only from its creation on, never briefly by others.
        Create(KeyPath(directory, name), key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Create(CertificatePath(directory, name), certificate.ExportCertificatePem(),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public static X509Certificate2 Read(string directory, string name)
    {
        string certificate = CertificatePath(directory, name);
        string key = KeyPath(directory, name);
        if (!File.Exists(certificate) || !File.Exists(key))
        {
            throw new IOException($"no CA in {directory}: expected {certificate} and {key} (made by accel certs create-ca)");
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"{certificate} and {key} are not a PEM certificate and its key: {ex.Message}", ex);
        }
    }

    private static void Create(string path, string pem, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(pem);
    }
}
