using System.Net;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// Secure by default: a host reachable from other machines must serve TLS, unless the operator says
/// <c>--insecure</c> (and is warned at every start). Loopback needs neither: nothing else can reach it.
/// </summary>
public static class ExposureCheck
{
    /// <summary>Whether <paramref name="listen"/> binds only a loopback address (127.0.0.0/8, ::1 or <c>localhost</c>).</summary>
    public static bool IsLoopback(string listen)
    {
        if (!Uri.TryCreate(listen.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out Uri? uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Whether <paramref name="listen"/> serves plaintext to other machines.</summary>
    public static bool IsExposedPlaintext(string listen) =>
        !IsLoopback(listen) && !listen.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The refusal for a plaintext non-loopback listen without <paramref name="insecure"/>; <see langword="null"/> when it may start.</summary>
    public static string? FindProblem(string listen, bool insecure) =>
        IsExposedPlaintext(listen) && !insecure
            ? $"--listen '{listen}' is reachable from other machines but serves plaintext: listen on https with --tls-cert FILE and --tls-key FILE (accel certs issue makes them), "
              + "bind to 127.0.0.1, or pass --insecure to accept that credentials and data travel in the clear"
            : null;
}
