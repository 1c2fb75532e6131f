using System.Diagnostics;
using AccelBroker.Hosting.Tracing;
using Grpc.Core;

namespace AccelBroker.Agent.Internal;

/// <summary>
/// The agent's traces: one activity per run, a child of the caller's trace (see <see cref="ServerSpans"/>).
/// </summary>
internal static class AgentTracing
{
    public const string SourceName = "AccelBroker.Agent";

    public static readonly ActivitySource Source = new(SourceName, typeof(AgentTracing).Assembly.GetName().Version?.ToString());

    public static Activity? StartRun(ServerCallContext context, string sliceId, string modelId, bool streaming)
    {
        Activity? activity = ServerSpans.Start(Source, "agent.run", context);
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

    public static void Failed(Activity? activity, Exception ex) => ServerSpans.Failed(activity, ex);
}
