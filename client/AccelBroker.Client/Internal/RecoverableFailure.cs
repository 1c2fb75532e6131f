using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>Which failures of a data-path call mean the accelerator is no longer where the session thinks it is.</summary>
internal static class RecoverableFailure
{
    // The agent's refusal of a token for a slice it no longer holds; other PermissionDenied (an allowlist) are final.
    private const string NotHeld = "which this agent does not hold";

    public static bool Is(RpcException error) =>
        error is not ModelRecoveryException
        && (error.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition
            || (error.StatusCode == StatusCode.PermissionDenied && error.Status.Detail.Contains(NotHeld, StringComparison.Ordinal)));
}
