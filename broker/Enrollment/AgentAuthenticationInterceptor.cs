using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Broker.Enrollment;

/// <summary>
/// Runs <see cref="AgentAuthenticator"/> in front of RegisterAgent, Heartbeat and EnrollAgent and hands the
/// principal to the service through <see cref="ServerCallContext.UserState"/>. Seam: the broker's policy
/// interceptor takes this over at merge.
/// </summary>
internal sealed class AgentAuthenticationInterceptor(AgentAuthenticator authenticator, BrokerOptions options) : Interceptor
{
    public const string PrincipalKey = "accelbroker.agent-principal";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        bool enrolment = context.Method == AgentAuthenticator.EnrollAgentMethod;
        if ((options.RequireAgentEnrollment || enrolment) && AgentAuthenticator.Covers(context.Method))
        {
            context.UserState[PrincipalKey] = authenticator.Authenticate(context, context.Method, request);
        }

        return continuation(request, context);
    }
}
