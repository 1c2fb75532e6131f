using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Internal;

/// <summary>The broker's log events. Event ids and names are a contract with operators: do not reuse or rename them.</summary>
internal static partial class BrokerLog
{
    [LoggerMessage(EventId = 1, EventName = "BrokerStarted", Level = LogLevel.Information,
        Message = "Broker listening on {Addresses} with slice types {SliceTypes}; attachments and usage kept {Storage}")]
    public static partial void BrokerStarted(ILogger logger, string addresses, string sliceTypes, string storage);

    [LoggerMessage(EventId = 2, EventName = "AttachmentsLoaded", Level = LogLevel.Information,
        Message = "Loaded {Count} attachments from {Path}")]
    public static partial void AttachmentsLoaded(ILogger logger, int count, string path);

    [LoggerMessage(EventId = 3, EventName = "MetricsListening", Level = LogLevel.Information,
        Message = "Prometheus metrics at {MetricsAddress}")]
    public static partial void MetricsListening(ILogger logger, string metricsAddress);

    [LoggerMessage(EventId = 4, EventName = "UsageLoaded", Level = LogLevel.Information,
        Message = "Loaded the usage of {Count} accelerators from {Path} (dropped {Dropped} no longer attached)")]
    public static partial void UsageLoaded(ILogger logger, int count, string path, int dropped);

    [LoggerMessage(EventId = 10, EventName = "AgentRegistered", Level = LogLevel.Information,
        Message = "Agent {AgentId} registered at {Address}: {DeviceKind} '{DeviceName}', {Memory}, compute {Compute} (known before: {Known})")]
    public static partial void AgentRegistered(
        ILogger logger, string agentId, string address, string deviceKind, string deviceName, string memory, string compute, bool known);

    [LoggerMessage(EventId = 11, EventName = "AgentLost", Level = LogLevel.Warning,
        Message = "Agent {AgentId} at {Address} is unhealthy: no heartbeat since {LastSeen:O} (limit {UnhealthyAfter})")]
    public static partial void AgentLost(ILogger logger, string agentId, string address, DateTimeOffset lastSeen, TimeSpan unhealthyAfter);

    [LoggerMessage(EventId = 12, EventName = "AgentRecovered", Level = LogLevel.Information,
        Message = "Agent {AgentId} at {Address} is healthy again after {Silence} without a heartbeat")]
    public static partial void AgentRecovered(ILogger logger, string agentId, string address, TimeSpan silence);

    [LoggerMessage(EventId = 13, EventName = "HeartbeatFromUnknownAgent", Level = LogLevel.Debug,
        Message = "Heartbeat from unknown agent {AgentId}; told to register again")]
    public static partial void HeartbeatFromUnknownAgent(ILogger logger, string agentId);

    [LoggerMessage(EventId = 20, EventName = "AcceleratorAttached", Level = LogLevel.Information,
        Message = "Attached {AcceleratorId} to host {Host} at ordinal {Ordinal}: {SliceType} on agent {AgentId} at {Address}")]
    public static partial void AcceleratorAttached(
        ILogger logger, string acceleratorId, string host, int ordinal, string sliceType, string agentId, string address);

    [LoggerMessage(EventId = 21, EventName = "AcceleratorDetached", Level = LogLevel.Information,
        Message = "Detached {AcceleratorId} from host {Host} at ordinal {Ordinal} (agent {AgentId})")]
    public static partial void AcceleratorDetached(ILogger logger, string acceleratorId, string host, int ordinal, string agentId);

    [LoggerMessage(EventId = 22, EventName = "PlacementFailed", Level = LogLevel.Warning,
        Message = "Cannot attach a {SliceType} slice to host {Host}: {Reason}")]
    public static partial void PlacementFailed(ILogger logger, string host, string sliceType, string reason);

    [LoggerMessage(EventId = 23, EventName = "AgentCallFailed", Level = LogLevel.Warning,
        Message = "{Call} of slice {SliceId} on agent {AgentId} at {Address} failed: {Reason}")]
    public static partial void AgentCallFailed(ILogger logger, string call, string agentId, string address, string sliceId, string reason);

    [LoggerMessage(EventId = 24, EventName = "SliceReleaseFailed", Level = LogLevel.Warning,
        Message = "ReleaseSlice of slice {SliceId} on agent {AgentId} at {Address} failed: {Reason}; the agent drops it on its next heartbeat")]
    public static partial void SliceReleaseFailed(ILogger logger, string agentId, string address, string sliceId, string reason);

    [LoggerMessage(EventId = 25, EventName = "AttachmentsSaveFailed", Level = LogLevel.Error,
        Message = "Attachments could not be saved; the change was undone")]
    public static partial void AttachmentsSaveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 26, EventName = "AcceleratorFailedOver", Level = LogLevel.Warning,
        Message = "Moved {AcceleratorId} (host {Host}, ordinal {Ordinal}) from agent {FromAgentId} to agent {ToAgentId} at epoch {Epoch}: {Reason}")]
    public static partial void AcceleratorFailedOver(
        ILogger logger, string acceleratorId, string host, int ordinal, string fromAgentId, string toAgentId, long epoch, string reason);

    [LoggerMessage(EventId = 27, EventName = "AcceleratorImpaired", Level = LogLevel.Error,
        Message = "Accelerator {AcceleratorId} (host {Host}, ordinal {Ordinal}) is impaired: {Reason}; it is placed as soon as an agent has room")]
    public static partial void AcceleratorImpaired(ILogger logger, string acceleratorId, string host, int ordinal, string reason);

    [LoggerMessage(EventId = 28, EventName = "AgentCordoned", Level = LogLevel.Information,
        Message = "Agent {AgentId} {Change} by {Caller}")]
    public static partial void AgentCordoned(ILogger logger, string agentId, string change, string caller);

    [LoggerMessage(EventId = 29, EventName = "AgentDrained", Level = LogLevel.Information,
        Message = "Drained agent {AgentId}: {Moved} slice(s) moved, {Stranded} found no room")]
    public static partial void AgentDrained(ILogger logger, string agentId, int moved, int stranded);

    [LoggerMessage(EventId = 30, EventName = "FailoverRoundFailed", Level = LogLevel.Error,
        Message = "A failover round failed; the next heartbeat interval tries again")]
    public static partial void FailoverRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 31, EventName = "HandedOver", Level = LogLevel.Information,
        Message = "Slice {SliceId} readied on agent {ToAgentId} before the switch from agent {FromAgentId}: {Copied} model file(s) copied, {Loaded} model(s) loaded")]
    public static partial void HandedOver(ILogger logger, string sliceId, string fromAgentId, string toAgentId, int copied, int loaded);

    [LoggerMessage(EventId = 32, EventName = "HandoverFailed", Level = LogLevel.Warning,
        Message = "Readying slice {SliceId} on agent {ToAgentId} (from {FromAgentId}), {Step} failed: {Reason}; its clients load what they miss")]
    public static partial void HandoverFailed(ILogger logger, string sliceId, string fromAgentId, string toAgentId, string step, string reason);

    [LoggerMessage(EventId = 40, EventName = "AgentUsageRejected", Level = LogLevel.Warning,
        Message = "Usage of slice {SliceId} from agent {AgentId} ignored: {Problem}")]
    public static partial void AgentUsageRejected(ILogger logger, string agentId, string sliceId, string problem);

    [LoggerMessage(EventId = 41, EventName = "AgentUsageRestarted", Level = LogLevel.Information,
        Message = "Usage counters of slice {SliceId} on agent {AgentId} started again from zero (the agent restarted); the {Inferences} inferences and {Failures} failures reported before are kept")]
    public static partial void AgentUsageRestarted(ILogger logger, string agentId, string sliceId, long inferences, long failures);

    [LoggerMessage(EventId = 42, EventName = "UsageFileUnusable", Level = LogLevel.Warning,
        Message = "Usage file {Path} cannot be used ({Problem}); starting with no usage, the file kept as {SetAsidePath}")]
    public static partial void UsageFileUnusable(ILogger logger, string path, string problem, string setAsidePath);

    [LoggerMessage(EventId = 43, EventName = "UsageFileNotSetAside", Level = LogLevel.Error,
        Message = "Usage file {Path} cannot be used ({Problem}) nor moved aside ({Reason}); starting with no usage, the next save replaces it")]
    public static partial void UsageFileNotSetAside(ILogger logger, string path, string problem, string reason);

    [LoggerMessage(EventId = 44, EventName = "UsageSaveFailed", Level = LogLevel.Warning,
        Message = "Usage could not be saved to {Path}; trying again in {Interval}")]
    public static partial void UsageSaveFailed(ILogger logger, string path, TimeSpan interval, Exception exception);

    [LoggerMessage(EventId = 50, EventName = "ListeningInsecurely", Level = LogLevel.Warning,
        Message = "--insecure: serving {Listen} without TLS to other machines; API keys, models and tensors travel in the clear")]
    public static partial void ListeningInsecurely(ILogger logger, string listen);

    [LoggerMessage(EventId = 51, EventName = "AgentsUnenrolled", Level = LogLevel.Warning,
        Message = "RequireAgentEnrollment=false: any machine that reaches {Listen} can register as an agent and be given slices")]
    public static partial void AgentsUnenrolled(ILogger logger, string listen);
    // Audit events of enrolment: ids and names only, never a token or credential.
    [LoggerMessage(EventId = 60, EventName = "EnrollmentCreated", Level = LogLevel.Information,
        Message = "Audit: enrolment token {TokenId} created for agent '{AgentName}', expires {ExpiresAt:O}, reusable {Reusable}")]
    public static partial void EnrollmentCreated(ILogger logger, string tokenId, string agentName, DateTimeOffset expiresAt, bool reusable);

    [LoggerMessage(EventId = 61, EventName = "AgentEnrolled", Level = LogLevel.Information,
        Message = "Audit: agent {AgentId} '{AgentName}' enrolled with token {TokenId}; credential {CredentialId}")]
    public static partial void AgentEnrolled(ILogger logger, string agentId, string agentName, string tokenId, string credentialId);

    [LoggerMessage(EventId = 62, EventName = "EnrollmentRefused", Level = LogLevel.Warning,
        Message = "Audit: enrolment with token {TokenId} refused (unknown, expired or used up)")]
    public static partial void EnrollmentRefused(ILogger logger, string tokenId);

    [LoggerMessage(EventId = 63, EventName = "AgentRevoked", Level = LogLevel.Warning,
        Message = "Audit: agent {AgentId} '{AgentName}' revoked (credential {CredentialId}); {Moved} slices moved, {Stranded} left unhealthy")]
    public static partial void AgentRevoked(ILogger logger, string agentId, string agentName, string credentialId, int moved, int stranded);

    [LoggerMessage(EventId = 64, EventName = "AgentCallRefused", Level = LogLevel.Warning,
        Message = "Audit: {Method} from agent '{AgentId}' refused: {Reason}")]
    public static partial void AgentCallRefused(ILogger logger, string method, string agentId, string reason);
}
