using System.Globalization;
using Grpc.Core;

namespace AccelBroker.Broker.Internal;

/// <summary>Checks of request fields shared by several calls; each failure is InvalidArgument with a message.</summary>
internal static class RequestChecks
{
    public const int MaxHostLength = 255;

    public static void Host(string host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            throw InvalidArgument("host must not be empty");
        }

        if (host.Length > MaxHostLength || host.Any(char.IsControl))
        {
            throw InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"host must be at most {MaxHostLength} characters without control characters"));
        }
    }

    public static void Ordinal(int ordinal)
    {
        if (ordinal < 0)
        {
            throw InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"ordinal must be 0 or greater (got {ordinal})"));
        }
    }

    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
