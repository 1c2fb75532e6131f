using System.Text.RegularExpressions;
using Grpc.Core;

namespace AccelBroker.Agent.Execution;

/// <summary>Maps libtorch failures to gRPC statuses that carry TorchScript's own message.</summary>
internal static partial class TorchErrors
{
    private const int MaxDetail = 1500;

    public static RpcException ToRpc(Exception exception, string what)
    {
        string message = Clean(exception.Message);
        StatusCode code = message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            ? StatusCode.ResourceExhausted
            : StatusCode.InvalidArgument;
        return new RpcException(new Status(code, $"{what}: {message}"));
    }

    /// <summary>
    /// libtorch appends C++ frames ("Exception raised from … frame #0 …") that mean nothing to a client, and
    /// the interpreter puts the actual error (RuntimeError: …) after its serialized traceback: lead with it.
    /// </summary>
    internal static string Clean(string message)
    {
        int frames = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        string text = (frames >= 0 ? message[..frames] : message).Trim();
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? error = lines.LastOrDefault(l => ErrorLine().IsMatch(l));
        string result = error is null
            ? string.Join(" ", lines)
            : $"{error} (TorchScript: {string.Join(" ", lines.Where(l => l != error))})";
        return result.Length <= MaxDetail ? result : result[..MaxDetail] + " …";
    }

    [GeneratedRegex(@"^[A-Za-z]*Error: ")]
    private static partial Regex ErrorLine();
}
