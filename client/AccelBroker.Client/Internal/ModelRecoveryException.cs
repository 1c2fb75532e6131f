using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// A model the session cannot put on the accelerator's new agent (its file changed, or its bytes were not kept): final,
/// never retried, and shown to the application as <see cref="StatusCode.FailedPrecondition"/>.
/// </summary>
internal sealed class ModelRecoveryException(string message) : RpcException(new Status(StatusCode.FailedPrecondition, message), message);
