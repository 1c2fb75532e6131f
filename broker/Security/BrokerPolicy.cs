using AccelBroker.Broker.Attachments;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Security;

/// <summary>
/// The broker's access table: one rule per method of the Broker service, by full gRPC method name, and the two open methods of grpc.health.v1.Health. It is checked
/// against the service descriptor when built, so a method added later without a rule stops the broker from starting
/// (and fails the table-driven test) instead of being served open.
/// </summary>
internal sealed class BrokerPolicy
{
    private readonly Dictionary<string, AccessRule> _rules;

    public BrokerPolicy(AttachmentBook book)
    {
        AccessRule viewer = AccessRule.AtLeast(AccessRole.Viewer);
        AccessRule operatorRole = AccessRule.AtLeast(AccessRole.Operator);
        AccessRule admin = AccessRule.AtLeast(AccessRole.Admin);
        var byName = new Dictionary<string, AccessRule>(StringComparer.Ordinal)
        {
            ["RegisterAgent"] = AccessRule.Agent,
            ["Heartbeat"] = AccessRule.Agent,
            ["ListSliceTypes"] = viewer,
            ["ListPrices"] = viewer,
            ["DescribeAgents"] = viewer,
            ["DescribeAccelerators"] = AccessRule.HostOr(AccessRole.Viewer, r => ((DescribeAcceleratorsRequest)r).Host),
            ["GetUsage"] = AccessRule.HostOr(AccessRole.Viewer, r => ((GetUsageRequest)r).Host),
            ["Attach"] = operatorRole,
            ["Detach"] = operatorRole,
            ["SetAllowedModels"] = operatorRole,
            // Resolving hands out the way to a slice's data: the host itself, or an operator (benchmarks, drains).
            ["ResolveAccelerator"] = AccessRule.HostOr(AccessRole.Operator, r => ((ResolveAcceleratorRequest)r).Host),
            ["ReportClientUsage"] = AccessRule.HostOr(AccessRole.Operator, r => book.HostOf(((ReportClientUsageRequest)r).AcceleratorId)),
            ["CreateApiKey"] = admin,
            ["ListApiKeys"] = admin,
            ["RevokeApiKey"] = admin,
            // A new agent has no key yet: EnrollAgent checks its enrolment token itself.
            ["EnrollAgent"] = AccessRule.Agent,
            ["CreateEnrollment"] = admin,
            ["ListEnrolledAgents"] = admin,
            ["RevokeAgent"] = admin,
            // An operator token reaches one agent's model store and local benchmark, as operators do through attach.
            ["IssueAgentToken"] = operatorRole,
            ["DrainAgent"] = operatorRole,
            ["UncordonAgent"] = operatorRole,
        };

        Google.Protobuf.Reflection.ServiceDescriptor service = Protocol.V1.Broker.Descriptor;
        string[] missing = [.. service.Methods.Select(m => m.Name).Where(n => !byName.ContainsKey(n))];
        string[] stale = [.. byName.Keys.Where(n => service.FindMethodByName(n) is null)];
        if (missing.Length > 0 || stale.Length > 0)
        {
            throw new InvalidOperationException(
                $"the broker's access table does not match its service: no rule for [{string.Join(", ", missing)}]; rules for unknown methods [{string.Join(", ", stale)}]");
        }

        _rules = byName.ToDictionary(p => $"/{service.FullName}/{p.Key}", p => p.Value, StringComparer.Ordinal);

        // Probes (Kubernetes, load balancers) carry no credential, and readiness says nothing secret.
        string health = Grpc.Health.V1.Health.Descriptor.FullName;
        _rules[$"/{health}/Check"] = AccessRule.Open;
        _rules[$"/{health}/Watch"] = AccessRule.Open;
    }

    /// <summary>The rule for a full method name (<c>/accelbroker.v1.Broker/Attach</c>); <see langword="null"/> for a method not in the table.</summary>
    public AccessRule? RuleFor(string method) => _rules.GetValueOrDefault(method);
}
