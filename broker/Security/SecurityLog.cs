using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Security;

/// <summary>
/// The broker's audit events: who changed keys and attachments, from where, and refused calls. They name keys by
/// name and public id only; no secret is ever an argument here.
/// </summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 100, EventName = "CallRefused", Level = LogLevel.Information,
        Message = "Refused {Method} from {Caller} at {Peer}: {Reason}")]
    public static partial void CallRefused(ILogger logger, string method, string caller, string peer, string reason);

    [LoggerMessage(EventId = 101, EventName = "ApiKeyCreated", Level = LogLevel.Information,
        Message = "API key '{Name}' ({KeyId}, {Role}) created by {Caller} at {Peer}")]
    public static partial void ApiKeyCreated(ILogger logger, string name, string keyId, string role, string caller, string peer);

    [LoggerMessage(EventId = 102, EventName = "ApiKeyRevoked", Level = LogLevel.Information,
        Message = "API key '{Name}' ({KeyId}) revoked by {Caller} at {Peer}")]
    public static partial void ApiKeyRevoked(ILogger logger, string name, string keyId, string caller, string peer);

    [LoggerMessage(EventId = 103, EventName = "HostCredentialIssued", Level = LogLevel.Information,
        Message = "Credential {KeyId} issued for host '{Host}' by {Caller} at {Peer}")]
    public static partial void HostCredentialIssued(ILogger logger, string keyId, string host, string caller, string peer);

    [LoggerMessage(EventId = 104, EventName = "AcceleratorAttached", Level = LogLevel.Information,
        Message = "Attached {SliceType} to host '{Host}' as ordinal {Ordinal} ({AcceleratorId}) for {Caller} at {Peer}")]
    public static partial void AcceleratorAttached(ILogger logger, string sliceType, string host, int ordinal, string acceleratorId, string caller, string peer);

    [LoggerMessage(EventId = 105, EventName = "AcceleratorDetached", Level = LogLevel.Information,
        Message = "Detached ordinal {Ordinal} ({AcceleratorId}) of host '{Host}' for {Caller} at {Peer}")]
    public static partial void AcceleratorDetached(ILogger logger, int ordinal, string acceleratorId, string host, string caller, string peer);

    [LoggerMessage(EventId = 106, EventName = "AdminKeyCreated", Level = LogLevel.Warning,
        Message = "No admin API key existed: created '{Name}' ({KeyId}) and wrote it to {Destination}; keep it secret")]
    public static partial void AdminKeyCreated(ILogger logger, string name, string keyId, string destination);

    [LoggerMessage(EventId = 107, EventName = "NoAdminKey", Level = LogLevel.Warning,
        Message = "No admin API key exists, so keys cannot be managed; start the broker once with --admin-key-file FILE to create one")]
    public static partial void NoAdminKey(ILogger logger);

    [LoggerMessage(EventId = 108, EventName = "HostCredentialRetired", Level = LogLevel.Information,
        Message = "Host '{Host}' has no accelerator left: its credential is revoked (detach by {Caller} at {Peer})")]
    public static partial void HostCredentialRetired(ILogger logger, string host, string caller, string peer);

    [LoggerMessage(EventId = 109, EventName = "AgentTokenIssued", Level = LogLevel.Information,
        Message = "Operator token for agent {AgentId} issued to {Caller} at {Peer}")]
    public static partial void AgentTokenIssued(ILogger logger, string caller, string agentId, string peer);

    [LoggerMessage(EventId = 110, EventName = "AllowedModelsSet", Level = LogLevel.Information,
        Message = "Host '{Host}' ordinal {Ordinal} ({AcceleratorId}) may load only {Count} allowed models, set by {Caller} at {Peer}")]
    public static partial void AllowedModelsSet(ILogger logger, string host, int ordinal, string acceleratorId, int count, string caller, string peer);

    [LoggerMessage(EventId = 111, EventName = "AllowedModelsCleared", Level = LogLevel.Information,
        Message = "Host '{Host}' ordinal {Ordinal} ({AcceleratorId}) may load any model: allowlist cleared by {Caller} at {Peer}")]
    public static partial void AllowedModelsCleared(ILogger logger, string host, int ordinal, string acceleratorId, string caller, string peer);
}
