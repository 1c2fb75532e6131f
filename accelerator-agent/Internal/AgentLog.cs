using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Internal;

/// <summary>The agent's log events; names are a contract with operators.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 1, EventName = "AgentStarted", Level = LogLevel.Information,
        Message = "Agent listening on {Address}, device {Device} ({DeviceName}), {MemoryMiB} MiB and compute {Compute} offered")]
    public static partial void AgentStarted(ILogger logger, string address, string device, string deviceName, long memoryMiB, double compute);

    [LoggerMessage(EventId = 24, EventName = "ExecutionSlots", Level = LogLevel.Information,
        Message = "{Slots} forward pass(es) at once, libtorch intra-op threads {Threads}")]
    public static partial void ExecutionSlots(ILogger logger, int slots, int threads);

    [LoggerMessage(EventId = 9, EventName = "MetricsListening", Level = LogLevel.Information,
        Message = "Prometheus metrics at {MetricsAddress}")]
    public static partial void MetricsListening(ILogger logger, string metricsAddress);

    [LoggerMessage(EventId = 2, EventName = "Registered", Level = LogLevel.Information,
        Message = "Registered with broker {Broker} as {AgentId}")]
    public static partial void Registered(ILogger logger, string broker, string agentId);

    [LoggerMessage(EventId = 3, EventName = "BrokerUnreachable", Level = LogLevel.Warning,
        Message = "Broker {Broker} unreachable: {Reason}")]
    public static partial void BrokerUnreachable(ILogger logger, string broker, string reason);

    [LoggerMessage(EventId = 4, EventName = "SliceAssigned", Level = LogLevel.Information,
        Message = "Slice {SliceId} ({SliceType}) assigned for host {Host} ordinal {Ordinal}")]
    public static partial void SliceAssigned(ILogger logger, string sliceId, string sliceType, string host, int ordinal);

    // Allowed is -1 when the slice may load any model.
    [LoggerMessage(EventId = 10, EventName = "SliceAllowlistChanged", Level = LogLevel.Information,
        Message = "Slice {SliceId} may now load {Allowed} allowed models (-1: any); {Unloaded} models no longer allowed were unloaded")]
    public static partial void SliceAllowlistChanged(ILogger logger, string sliceId, int allowed, int unloaded);

    [LoggerMessage(EventId = 5, EventName = "SliceReleased", Level = LogLevel.Information,
        Message = "Slice {SliceId} released")]
    public static partial void SliceReleased(ILogger logger, string sliceId);

    [LoggerMessage(EventId = 6, EventName = "ModelStored", Level = LogLevel.Information,
        Message = "Model {Sha256} stored ({Length} bytes)")]
    public static partial void ModelStored(ILogger logger, string sha256, long length);

    [LoggerMessage(EventId = 7, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Model {ModelId} loaded on slice {SliceId} ({Device}) in {Milliseconds:F1} ms")]
    public static partial void ModelLoaded(ILogger logger, string modelId, string sliceId, string device, double milliseconds);

    [LoggerMessage(EventId = 8, EventName = "UploadRejected", Level = LogLevel.Warning,
        Message = "Model upload rejected: {Reason}")]
    public static partial void UploadRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 20, EventName = "SliceRefused", Level = LogLevel.Warning,
        Message = "Slice {SliceId} not assigned: {Reason}")]
    public static partial void SliceRefused(ILogger logger, string sliceId, string reason);

    [LoggerMessage(EventId = 21, EventName = "ModelEvicted", Level = LogLevel.Information,
        Message = "Model {ModelId} unloaded from slice {SliceId} to make room ({ChargedBytes} bytes freed); it reloads on its next run")]
    public static partial void ModelEvicted(ILogger logger, string modelId, string sliceId, long chargedBytes);

    [LoggerMessage(EventId = 22, EventName = "ModelCharged", Level = LogLevel.Debug,
        Message = "Model {ModelId} on slice {SliceId} charged {ChargedBytes} bytes ({ParameterBytes} in parameters and buffers, {WarmupBytes} at warm-up peak)")]
    public static partial void ModelCharged(ILogger logger, string modelId, string sliceId, long chargedBytes, long parameterBytes, long warmupBytes);

    [LoggerMessage(EventId = 23, EventName = "ModelReloaded", Level = LogLevel.Information,
        Message = "Model {ModelId} reloaded on slice {SliceId} for a run after its eviction")]
    public static partial void ModelReloaded(ILogger logger, string modelId, string sliceId);

    [LoggerMessage(EventId = 30, EventName = "WorkerStarted", Level = LogLevel.Debug,
        Message = "Worker process {ProcessId} for {Owner} ready in {Milliseconds:0} ms")]
    public static partial void WorkerStarted(ILogger logger, string owner, int processId, double milliseconds);

    [LoggerMessage(EventId = 31, EventName = "WorkerCrashed", Level = LogLevel.Warning,
        Message = "Worker process {ProcessId} for {Owner} crashed ({Crash}) with {Pending} command(s) in flight; last output: {LastOutput}")]
    public static partial void WorkerCrashed(ILogger logger, string owner, int processId, string crash, int pending, string lastOutput);

    [LoggerMessage(EventId = 32, EventName = "WorkerStreamBroken", Level = LogLevel.Warning,
        Message = "Worker process {ProcessId} for {Owner} sent an unreadable message ({Reason}); it is stopped")]
    public static partial void WorkerStreamBroken(ILogger logger, string owner, int processId, string reason);

    [LoggerMessage(EventId = 33, EventName = "WorkerOutput", Level = LogLevel.Debug,
        Message = "Worker {ProcessId} ({Owner}): {Line}")]
    public static partial void WorkerOutput(ILogger logger, string owner, int processId, string line);

    [LoggerMessage(EventId = 34, EventName = "ModelQuarantined", Level = LogLevel.Warning,
        Message = "Model {Sha256} crashed the loader of slice {SliceId} ({Crash}); it is refused from now on")]
    public static partial void ModelQuarantined(ILogger logger, string sha256, string sliceId, string crash);

    [LoggerMessage(EventId = 35, EventName = "WorkerModelsLost", Level = LogLevel.Warning,
        Message = "Slice {SliceId} lost {Count} resident model(s) with its worker ({Crash}); they reload on their next run")]
    public static partial void WorkerModelsLost(ILogger logger, string sliceId, int count, string crash);

    [LoggerMessage(EventId = 36, EventName = "WorkerRecycled", Level = LogLevel.Information,
        Message = "Slice {SliceId} has no models left and its worker held memory that none accounts for: it was replaced by a fresh one")]
    public static partial void WorkerRecycled(ILogger logger, string sliceId);

    [LoggerMessage(EventId = 40, EventName = "AgentEnrolled", Level = LogLevel.Information,
        Message = "Enrolled with broker {Broker} as agent {AgentId}; credential kept in {Where}")]
    public static partial void AgentEnrolled(ILogger logger, string broker, string agentId, string where);

    [LoggerMessage(EventId = 41, EventName = "CredentialRefused", Level = LogLevel.Error,
        Message = "Broker {Broker} refused this agent's credential ({Status}: {Reason}); it may have been revoked. Retrying in {Delay}; enrol again with a new --enrollment-token-file")]
    public static partial void CredentialRefused(ILogger logger, string broker, string status, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 50, EventName = "ListeningInsecurely", Level = LogLevel.Warning,
        Message = "--insecure: serving {Listen} without TLS to other machines; models and tensors travel in the clear")]
    public static partial void ListeningInsecurely(ILogger logger, string listen);

    [LoggerMessage(EventId = 60, EventName = "CallRefused", Level = LogLevel.Warning,
        Message = "Refused {Method} from {Peer}: {Reason}")]
    public static partial void CallRefused(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventId = 61, EventName = "TokenKeysChanged", Level = LogLevel.Information,
        Message = "Trusting the broker's token keys [{KeyIds}]")]
    public static partial void TokenKeysChanged(ILogger logger, string keyIds);

    [LoggerMessage(EventId = 62, EventName = "Fenced", Level = LogLevel.Warning,
        Message = "This agent completed no heartbeat to {Broker} for over {FenceAfter} (frozen or starved): serving no slice until the broker confirms which it still holds")]
    public static partial void Fenced(ILogger logger, string broker, TimeSpan fenceAfter);

    [LoggerMessage(EventId = 63, EventName = "SliceEpochChanged", Level = LogLevel.Information,
        Message = "Slice {SliceId} came back at epoch {Epoch} (held at {HeldEpoch}): its models were dropped and it starts afresh")]
    public static partial void SliceEpochChanged(ILogger logger, string sliceId, long epoch, long heldEpoch);

    [LoggerMessage(EventId = 70, EventName = "DeviceHealthy", Level = LogLevel.Information,
        Message = "Device {Device} passed its health check")]
    public static partial void DeviceHealthy(ILogger logger, string device);

    [LoggerMessage(EventId = 71, EventName = "DeviceUnhealthy", Level = LogLevel.Error,
        Message = "Device {Device} is not ready: {Reason}")]
    public static partial void DeviceUnhealthy(ILogger logger, string device, string reason);
}
