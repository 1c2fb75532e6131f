using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>Which failures of a data-path call mean the accelerator is no longer where the session thinks it is.</summary>
internal static class RecoverableFailure
{
    // Unavailable: the agent is gone, or fenced itself. FailedPrecondition: it no longer holds the slice, or holds another
    // epoch of it. A session's own refusal to recover a model is final.
    public static bool Is(RpcException error) =>
        error is not ModelRecoveryException
        && error.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition;
}
