using System.Buffers;
using System.Globalization;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Fleet;

/// <summary>Checks a registration before anything is recorded.</summary>
internal static class AgentRegistrationValidator
{
    public const int MaxAgentIdLength = 64;

    private static readonly SearchValues<char> s_agentIdChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>The problem with <paramref name="request"/>, or <see langword="null"/> when it is valid.</summary>
    public static string? FindProblem(RegisterAgentRequest request)
    {
        if (request.AgentId.Length > MaxAgentIdLength || request.AgentId.AsSpan().ContainsAnyExcept(s_agentIdChars))
        {
            return $"agent_id '{request.AgentId}' is not valid: use at most {MaxAgentIdLength} letters, digits, '.', '_' or '-' (or leave it empty to get one)";
        }

        if (!Uri.TryCreate(request.Address, UriKind.Absolute, out Uri? address)
            || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(address.Host))
        {
            return $"address '{request.Address}' is not an absolute http or https URI (for example http://10.0.0.5:7001)";
        }

        if (request.MetricsAddress.Length > 0
            && (!Uri.TryCreate(request.MetricsAddress, UriKind.Absolute, out Uri? metrics)
                || (metrics.Scheme != Uri.UriSchemeHttp && metrics.Scheme != Uri.UriSchemeHttps)
                || string.IsNullOrEmpty(metrics.Host)))
        {
            return $"metrics_address '{request.MetricsAddress}' is not an absolute http or https URI (for example http://10.0.0.5:9464/metrics; leave it empty when the agent serves no metrics)";
        }

        if (request.Device is null)
        {
            return "device is required";
        }

        if (request.Device.Kind is not ("cpu" or "cuda"))
        {
            return $"device kind '{request.Device.Kind}' is not supported: use \"cpu\" or \"cuda\"";
        }

        if (request.Capacity is null)
        {
            return "capacity is required";
        }

        if (request.Capacity.MemoryBytes <= 0)
        {
            return $"capacity memory_bytes must be greater than 0 (got {request.Capacity.MemoryBytes.ToString(CultureInfo.InvariantCulture)})";
        }

        if (!(request.Capacity.Compute > 0 && request.Capacity.Compute <= 1))
        {
            return $"capacity compute must be greater than 0 and at most 1 (got {request.Capacity.Compute.ToString(CultureInfo.InvariantCulture)})";
        }

        return null;
    }
}
