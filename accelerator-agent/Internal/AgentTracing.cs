using System.Diagnostics;
using AccelBroker.Hosting.Errors;
using Grpc.Core;

namespace AccelBroker.Agent.Internal;

/// <summary>
/// The agent's traces: one activity per run, a child of the caller's trace. The parent is the current activity
/// when something records it (the host's ASP.NET Core instrumentation), else the call's W3C <c>traceparent</c>
/// header, so a run joins the application's trace whatever the agent's process listens to.
/// </summary>
internal static class AgentTracing
{
    public const string SourceName = "AccelBroker.Agent";

    public static readonly ActivitySource Source = new(SourceName, typeof(AgentTracing).Assembly.GetName().Version?.ToString());

    public static Activity? StartRun(ServerCallContext context, string sliceId, string modelId, bool streaming)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? current = Activity.Current;
        Activity? activity;
        if (current is { Recorded: true })
        {
            activity = Source.StartActivity("agent.run", ActivityKind.Internal);
        }
        else
        {
            // An unrecorded local activity (ASP.NET Core makes one when nothing records it) is no parent: a
            // parent-based sampler would drop this span with it. The caller's context is in the header.
            ActivityContext parent = default;
            if (context.RequestHeaders.GetValue("traceparent") is { } traceparent)
            {
                _ = ActivityContext.TryParse(traceparent, context.RequestHeaders.GetValue("tracestate"), isRemote: true, out parent);
            }

            Activity.Current = null;
            activity = Source.StartActivity("agent.run", ActivityKind.Server, parent);
            if (activity is null)
            {
                Activity.Current = current;
            }
        }

        activity?.SetTag("accel.slice_id", sliceId);
        activity?.SetTag("accel.model_id", modelId);
        activity?.SetTag("accel.streaming", streaming);
        return activity;
    }

    /// <summary>Where the run's time went, as the caller's RunTiming says it.</summary>
    public static void Ran(Activity? activity, Protocol.V1.RunTiming timing)
    {
        activity?.SetTag("accel.queue_seconds", timing.QueueSeconds);
        activity?.SetTag("accel.compute_seconds", timing.ComputeSeconds);
    }

    public static void Failed(Activity? activity, Exception ex) =>
        activity?.SetStatus(ActivityStatusCode.Error, ex switch
        {
            DomainException domain => DomainErrorStatus.CodeOf(domain.Kind).ToString(),
            RpcException rpc => rpc.StatusCode.ToString(),
            _ => ex.GetType().Name,
        });
}
