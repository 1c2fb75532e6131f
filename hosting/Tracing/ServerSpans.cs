using System.Diagnostics;
using AccelBroker.Hosting.Errors;
using Grpc.Core;

namespace AccelBroker.Hosting.Tracing;

/// <summary>
/// Starts a host's span for a call as a child of the caller's trace. The parent is the current activity when
/// something records it (ASP.NET Core instrumentation), else the call's W3C <c>traceparent</c> header, so the span
/// joins the caller's trace whatever the host's process listens to.
/// </summary>
public static class ServerSpans
{
    /// <summary>The span, or <see langword="null"/> when nothing listens to <paramref name="source"/>.</summary>
    public static Activity? Start(ActivitySource source, string name, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(context);
        if (!source.HasListeners())
        {
            return null;
        }

        Activity? current = Activity.Current;
        if (current is { Recorded: true })
        {
            return source.StartActivity(name, ActivityKind.Internal);
        }

        // An unrecorded local activity (ASP.NET Core makes one when nothing records it) is no parent: a
        // parent-based sampler would drop this span with it. The caller's context is in the header.
        ActivityContext parent = default;
        if (context.RequestHeaders.GetValue("traceparent") is { } traceparent)
        {
            _ = ActivityContext.TryParse(traceparent, context.RequestHeaders.GetValue("tracestate"), isRemote: true, out parent);
        }

        Activity.Current = null;
        Activity? activity = source.StartActivity(name, ActivityKind.Server, parent);
        if (activity is null)
        {
            Activity.Current = current;
        }

        return activity;
    }

    /// <summary>Marks the span failed with the status code's name, never a message (messages may name tenants' data).</summary>
    public static void Failed(Activity? activity, Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        activity?.SetStatus(ActivityStatusCode.Error, ex switch
        {
            DomainException domain => DomainErrorStatus.CodeOf(domain.Kind).ToString(),
            RpcException rpc => rpc.StatusCode.ToString(),
            _ => ex.GetType().Name,
        });
    }
}
