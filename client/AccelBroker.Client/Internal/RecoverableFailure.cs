using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>Which failures of a data-path call mean the accelerator is no longer where the session thinks it is, or is busy for a moment.</summary>
internal static class RecoverableFailure
{
    // The agent's refusal of an upload while its upload slots or bytes in flight are taken: many sessions that moved to
    // one agent at once upload together, and waiting a backoff step is the answer the agent asks for.
    private const string UploadsBusy = "; retry later";

    // Unavailable: the agent is gone, or fenced itself. FailedPrecondition: it no longer holds the slice, or holds another
    // epoch of it. A session's own refusal to recover a model is final.
    public static bool Is(RpcException error) =>
        error is not ModelRecoveryException
        && (error.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition
            || (error.StatusCode == StatusCode.ResourceExhausted && error.Status.Detail.EndsWith(UploadsBusy, StringComparison.Ordinal)));
}
