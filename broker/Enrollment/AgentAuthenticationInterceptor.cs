using AccelBroker.Hosting.Startup;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Broker.Enrollment;

/// <summary>
/// Runs <see cref="AgentAuthenticator"/> in front of RegisterAgent, Heartbeat and EnrollAgent and hands the
/// principal to the service through <see cref="ServerCallContext.UserState"/>. With <c>--client-ca-file</c>, those calls
/// also need a trusted client certificate on the connection (mutual TLS), checked first. Seam: the broker's policy
/// interceptor takes this over at merge.
/// </summary>
internal sealed class AgentAuthenticationInterceptor(AgentAuthenticator authenticator, ClientCertificateRequirement mutualTls, BrokerOptions options) : Interceptor
{
    public const string PrincipalKey = "accelbroker.agent-principal";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        bool enrolment = context.Method == AgentAuthenticator.EnrollAgentMethod;
        if (AgentAuthenticator.Covers(context.Method))
        {
            mutualTls.Check(context, context.Method[(context.Method.LastIndexOf('/') + 1)..]);
        }

        if ((options.AgentEnrollmentRequired || enrolment) && AgentAuthenticator.Covers(context.Method))
        {
            context.UserState[PrincipalKey] = authenticator.Authenticate(context, context.Method, request);
        }

        return continuation(request, context);
    }
}
