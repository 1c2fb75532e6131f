using AccelBroker.Hosting.Errors;
using Grpc.Core;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// The calls only the fleet's own hosts may make (the broker's AgentControl calls to agents, agents' registration
/// with the broker) need, with <c>--client-ca-file</c>, a connection whose client certificate chained to that CA.
/// The handshake already refused any other certificate, so a certificate on the connection is a trusted one.
/// </summary>
public sealed class ClientCertificateRequirement(bool required)
{
    /// <summary>Whether calls are checked (<c>--client-ca-file</c> was given).</summary>
    public bool IsRequired { get; } = required;

    /// <summary>Refuses <paramref name="context"/>'s call when it came without a trusted client certificate.</summary>
    /// <param name="context">The call.</param>
    /// <param name="what">What is called, as the refusal names it (a service or method name).</param>
    /// <exception cref="DomainException">Unauthenticated: mutual TLS is required and the connection has no client certificate.</exception>
    public void Check(ServerCallContext context, string what)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsRequired && context.GetHttpContext().Connection.ClientCertificate is null)
        {
            throw DomainException.Unauthenticated($"{what} requires a client certificate signed by --client-ca-file (the caller presents one with --tls-client-cert and --tls-client-key)");
        }
    }
}
