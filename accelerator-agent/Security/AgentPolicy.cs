using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Security;

/// <summary>
/// The agent's access table: one rule per method of InferenceAgent, AgentControl and grpc.health.v1.Health, by full gRPC method name,
/// checked against both service descriptors when built, so a method added without a rule stops the agent from
/// starting instead of being served open.
/// </summary>
internal sealed class AgentPolicy
{
    private readonly Dictionary<string, AgentAccessRule> _rules;

    public AgentPolicy()
    {
        var inference = new Dictionary<string, AgentAccessRule>(StringComparer.Ordinal)
        {
            // The model store: a slice sees what was uploaded through it; an operator (benchmarks) sees the store.
            ["HasModel"] = AgentAccessRule.SliceOrOperator,
            ["UploadModel"] = AgentAccessRule.SliceOrOperator,
            ["LoadModel"] = AgentAccessRule.Slice,
            ["UnloadModel"] = AgentAccessRule.Slice,
            ["ListModels"] = AgentAccessRule.Slice,
            ["Run"] = AgentAccessRule.Slice,
            ["RunStream"] = AgentAccessRule.Slice,
            ["Echo"] = AgentAccessRule.Slice,
            ["EchoStream"] = AgentAccessRule.Slice,
            ["GetAgentInfo"] = AgentAccessRule.SliceOrOperator,
            // The whole device, outside every slice: operators only.
            ["BenchmarkLocal"] = AgentAccessRule.Operator,
        };
        var control = new Dictionary<string, AgentAccessRule>(StringComparer.Ordinal)
        {
            ["AssignSlice"] = AgentAccessRule.Control,
            ["ReleaseSlice"] = AgentAccessRule.Control,
            ["ExportModel"] = AgentAccessRule.Control,
        };

        // Probes (Kubernetes, load balancers) carry no token, and readiness says nothing secret.
        var health = new Dictionary<string, AgentAccessRule>(StringComparer.Ordinal)
        {
            ["Check"] = AgentAccessRule.Open,
            ["Watch"] = AgentAccessRule.Open,
        };

        _rules = new Dictionary<string, AgentAccessRule>(StringComparer.Ordinal);
        Add(InferenceAgent.Descriptor, inference);
        Add(AgentControl.Descriptor, control);
        Add(Grpc.Health.V1.Health.Descriptor, health);
    }

    /// <summary>The rule for a full method name; <see langword="null"/> for a method not in the table.</summary>
    public AgentAccessRule? RuleFor(string method) => _rules.GetValueOrDefault(method);

    private void Add(Google.Protobuf.Reflection.ServiceDescriptor service, Dictionary<string, AgentAccessRule> byName)
    {
        string[] missing = [.. service.Methods.Select(m => m.Name).Where(n => !byName.ContainsKey(n))];
        string[] stale = [.. byName.Keys.Where(n => service.FindMethodByName(n) is null)];
        if (missing.Length > 0 || stale.Length > 0)
        {
            throw new InvalidOperationException(
                $"the agent's access table does not match {service.Name}: no rule for [{string.Join(", ", missing)}]; rules for unknown methods [{string.Join(", ", stale)}]");
        }

        foreach ((string name, AgentAccessRule rule) in byName)
        {
            _rules.Add($"/{service.FullName}/{name}", rule);
        }
    }
}
