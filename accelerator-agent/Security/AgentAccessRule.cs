using AccelBroker.Hosting.Tokens;

namespace AccelBroker.Agent.Security;

/// <summary>Which token scopes one agent method admits.</summary>
internal sealed record AgentAccessRule(string Description, params AccessScope[] Scopes)
{
    public static readonly AgentAccessRule Slice = new("a slice token", AccessScope.Slice);
    public static readonly AgentAccessRule SliceOrOperator = new("a slice or operator token", AccessScope.Slice, AccessScope.Operator);
    public static readonly AgentAccessRule Operator = new("an operator token", AccessScope.Operator);
    public static readonly AgentAccessRule Control = new("the broker's control token", AccessScope.Control);

    /// <summary>Anyone, without a token: only for what says nothing secret (the health service).</summary>
    public static readonly AgentAccessRule Open = new("no token");

    public bool IsOpen => Scopes.Length == 0;

    public bool Admits(AccessScope scope) => Scopes.Contains(scope);
}
