using System.Diagnostics;
using AccelBroker.Hosting.Tracing;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Broker.Internal;

/// <summary>
/// The broker's traces: a span for each call that changes or reads the fleet's placement (register, heartbeat,
/// attach, detach, resolve), a child of the caller's trace. The other calls are listings, not worth a span each.
/// Outermost interceptor, so a failure's status is the code the caller sees.
/// </summary>
internal sealed class BrokerTracing : Interceptor
{
    public const string SourceName = "AccelBroker.Broker";

    public static readonly ActivitySource Source = new(SourceName, typeof(BrokerTracing).Assembly.GetName().Version?.ToString());

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        string? name = request switch
        {
            RegisterAgentRequest => "broker.register_agent",
            HeartbeatRequest => "broker.heartbeat",
            AttachRequest => "broker.attach",
            DetachRequest => "broker.detach",
            ResolveAcceleratorRequest => "broker.resolve_accelerator",
            _ => null,
        };
        using Activity? activity = name is null ? null : ServerSpans.Start(Source, name, context);
        if (activity is not null)
        {
            Tag(activity, request);
        }

        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex)
        {
            ServerSpans.Failed(activity, ex);
            throw;
        }
    }

    private static void Tag(Activity activity, object request)
    {
        switch (request)
        {
            case RegisterAgentRequest register:
                activity.SetTag("accel.agent_id", register.AgentId);
                break;
            case HeartbeatRequest heartbeat:
                activity.SetTag("accel.agent_id", heartbeat.AgentId);
                break;
            case AttachRequest attach:
                activity.SetTag("accel.host", attach.Host);
                activity.SetTag("accel.slice_type", attach.SliceType);
                break;
            case DetachRequest detach:
                activity.SetTag("accel.host", detach.Host);
                activity.SetTag("accel.ordinal", detach.Ordinal);
                break;
            case ResolveAcceleratorRequest resolve:
                activity.SetTag("accel.host", resolve.Host);
                activity.SetTag("accel.ordinal", resolve.Ordinal);
                break;
        }
    }
}
