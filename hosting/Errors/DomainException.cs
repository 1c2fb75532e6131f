namespace AccelBroker.Hosting.Errors;

/// <summary>
/// A failure the domain reports to its caller: a <see cref="DomainErrorKind"/> and a message written for the user,
/// which becomes the gRPC status detail unchanged. Messages never carry secrets.
/// </summary>
public sealed class DomainException : Exception
{
    /// <summary>Creates a failure of <paramref name="kind"/> with the user-facing <paramref name="message"/>.</summary>
    public DomainException(DomainErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What went wrong; it decides the gRPC status code.</summary>
    public DomainErrorKind Kind { get; }

    /// <summary>The request is not valid.</summary>
    public static DomainException Invalid(string message) => new(DomainErrorKind.InvalidInput, message);

    /// <summary>What the request names does not exist.</summary>
    public static DomainException NotFound(string message) => new(DomainErrorKind.NotFound, message);

    /// <summary>A budget does not hold what the request needs.</summary>
    public static DomainException Exhausted(string message) => new(DomainErrorKind.ResourceExhausted, message);

    /// <summary>The state the request needs is not there.</summary>
    public static DomainException Precondition(string message) => new(DomainErrorKind.FailedPrecondition, message);

    /// <summary>The caller's deadline passed.</summary>
    public static DomainException Deadline(string message) => new(DomainErrorKind.DeadlineExceeded, message);

    /// <summary>The caller gave up.</summary>
    public static DomainException Cancelled(string message) => new(DomainErrorKind.Cancelled, message);

    /// <summary>A transient condition; the request may succeed later.</summary>
    public static DomainException Unavailable(string message) => new(DomainErrorKind.Unavailable, message);

    /// <summary>Stored data failed its integrity check.</summary>
    public static DomainException DataLoss(string message) => new(DomainErrorKind.DataLoss, message);

    /// <summary>A fault of this service.</summary>
    public static DomainException Internal(string message, Exception? cause = null) => new(DomainErrorKind.Internal, message, cause);

    /// <summary>The caller's credential is missing or not valid.</summary>
    public static DomainException Unauthenticated(string message) => new(DomainErrorKind.Unauthenticated, message);

    /// <summary>The caller may not do this.</summary>
    public static DomainException PermissionDenied(string message) => new(DomainErrorKind.PermissionDenied, message);

    /// <summary>What the request would create exists already.</summary>
    public static DomainException AlreadyExists(string message) => new(DomainErrorKind.AlreadyExists, message);
}
