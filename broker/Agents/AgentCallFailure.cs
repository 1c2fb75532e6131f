using System.Globalization;
using Grpc.Core;

namespace AccelBroker.Broker.Agents;

/// <summary>Says in one line why a call to an agent failed, for logs and callers' errors.</summary>
internal static class AgentCallFailure
{
    public static string Describe(Exception ex, TimeSpan callTimeout) => ex switch
    {
        RpcException { StatusCode: StatusCode.DeadlineExceeded } =>
            $"DeadlineExceeded: no answer within {callTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
        RpcException { Status.DebugException: { } cause } rpc => $"{rpc.StatusCode}: {rpc.Status.Detail} ({cause.Message})",
        RpcException rpc when string.IsNullOrEmpty(rpc.Status.Detail) => rpc.StatusCode.ToString(),
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    /// <summary>Failures of a call to an agent that mean "not now", as opposed to a bug.</summary>
    public static bool IsExpected(Exception ex) => ex is RpcException or OperationCanceledException or HttpRequestException;
}
