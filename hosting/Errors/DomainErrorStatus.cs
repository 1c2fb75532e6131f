using Grpc.Core;

namespace AccelBroker.Hosting.Errors;

/// <summary>The one mapping from <see cref="DomainErrorKind"/> to gRPC status codes, both ways.</summary>
public static class DomainErrorStatus
{
    /// <summary>The status code a failure of <paramref name="kind"/> is answered with.</summary>
    public static StatusCode CodeOf(DomainErrorKind kind) => kind switch
    {
        DomainErrorKind.InvalidInput => StatusCode.InvalidArgument,
        DomainErrorKind.NotFound => StatusCode.NotFound,
        DomainErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        DomainErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        DomainErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        DomainErrorKind.Cancelled => StatusCode.Cancelled,
        DomainErrorKind.Unavailable => StatusCode.Unavailable,
        DomainErrorKind.DataLoss => StatusCode.DataLoss,
        DomainErrorKind.Internal => StatusCode.Internal,
        DomainErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        DomainErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        DomainErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no status code for this kind"),
    };

    /// <summary>
    /// The kind a status code stands for, where a failure crosses a process boundary as a code (a worker's reply)
    /// and is raised again in the domain; a code no kind maps to is <see cref="DomainErrorKind.Internal"/>.
    /// </summary>
    public static DomainErrorKind KindOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => DomainErrorKind.InvalidInput,
        StatusCode.NotFound => DomainErrorKind.NotFound,
        StatusCode.ResourceExhausted => DomainErrorKind.ResourceExhausted,
        StatusCode.FailedPrecondition => DomainErrorKind.FailedPrecondition,
        StatusCode.DeadlineExceeded => DomainErrorKind.DeadlineExceeded,
        StatusCode.Cancelled => DomainErrorKind.Cancelled,
        StatusCode.Unavailable => DomainErrorKind.Unavailable,
        StatusCode.DataLoss => DomainErrorKind.DataLoss,
        StatusCode.Unauthenticated => DomainErrorKind.Unauthenticated,
        StatusCode.PermissionDenied => DomainErrorKind.PermissionDenied,
        StatusCode.AlreadyExists => DomainErrorKind.AlreadyExists,
        _ => DomainErrorKind.Internal,
    };

    /// <summary>The exception gRPC answers the call with: the kind's code and the message as the status detail.</summary>
    public static RpcException ToRpcException(DomainException exception) =>
        new(new Status(CodeOf(exception.Kind), exception.Message));
}
