using Microsoft.Extensions.Logging;

namespace AccelBroker.Hosting.Startup;

/// <summary>What a host tells its operator about client certificates (mutual TLS).</summary>
internal static partial class ClientCertificateLog
{
    public const string Category = "AccelBroker.Hosting.ClientCertificates";

    // The client only sees its connection closed: this is where the operator learns why.
    [LoggerMessage(EventId = 1, EventName = "ClientCertificateRefused", Level = LogLevel.Warning,
        Message = "Refused the TLS handshake of a client presenting {Subject} (issued by {Issuer}): {Reason}. Only client-authentication certificates that chain to --client-ca-file are admitted")]
    public static partial void Refused(ILogger logger, string subject, string issuer, string reason);
}
