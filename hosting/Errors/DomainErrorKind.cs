namespace AccelBroker.Hosting.Errors;

/// <summary>
/// What went wrong, in the domain's words. Each kind is answered with one gRPC status by
/// <see cref="DomainErrorInterceptor"/>, so the domain never names a transport.
/// </summary>
public enum DomainErrorKind
{
    /// <summary>The request is malformed or names something impossible; retrying it unchanged fails again.</summary>
    InvalidInput,

    /// <summary>Something the request names (a model, a slice, an accelerator, an agent) does not exist here.</summary>
    NotFound,

    /// <summary>A budget (memory, bytes, capacity) does not hold what the request needs.</summary>
    ResourceExhausted,

    /// <summary>The request is valid but the state it needs is not there (for example a model not loaded yet).</summary>
    FailedPrecondition,

    /// <summary>The caller's deadline passed before the work was done.</summary>
    DeadlineExceeded,

    /// <summary>The caller gave up.</summary>
    Cancelled,

    /// <summary>A transient condition (a worker restarting, an agent out of reach); the same request may succeed later.</summary>
    Unavailable,

    /// <summary>Stored data failed its integrity check.</summary>
    DataLoss,

    /// <summary>A fault of this service, not of the request.</summary>
    Internal,

    /// <summary>The caller presented no credential, or one that is not valid (unknown, revoked, expired, badly signed).</summary>
    Unauthenticated,

    /// <summary>The caller is known but may not do this (a role too low, a slice or host that is not theirs).</summary>
    PermissionDenied,

    /// <summary>What the request would create exists already.</summary>
    AlreadyExists,
}
