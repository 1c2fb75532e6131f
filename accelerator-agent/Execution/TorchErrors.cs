using Grpc.Core;

namespace AccelBroker.Agent.Execution;

/// <summary>Maps libtorch failures to gRPC statuses that carry TorchScript's own message.</summary>
internal static class TorchErrors
{
    public static RpcException ToRpc(Exception exception, string what)
    {
        string message = FirstLines(exception.Message);
        StatusCode code = message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            ? StatusCode.ResourceExhausted
            : StatusCode.InvalidArgument;
        return new RpcException(new Status(code, $"{what}: {message}"));
    }

    // TorchScript messages end with a long serialized call stack; the first lines say what went wrong.
    private static string FirstLines(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" ", lines.Take(12));
    }
}
