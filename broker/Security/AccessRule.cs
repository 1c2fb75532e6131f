namespace AccelBroker.Broker.Security;

/// <summary>Who may call one broker method.</summary>
internal sealed record AccessRule
{
    private AccessRule(AccessRuleKind kind, AccessRole role, Func<object, string?>? hostOf)
    {
        Kind = kind;
        Role = role;
        HostOf = hostOf;
    }

    public AccessRuleKind Kind { get; }

    /// <summary>The least operator role that may call it.</summary>
    public AccessRole Role { get; }

    /// <summary>
    /// The host a request acts on, when a host credential for that host may call it too; <see langword="null"/> when
    /// only operator keys may. Returns <see langword="null"/> for a request whose host is unknown.
    /// </summary>
    public Func<object, string?>? HostOf { get; }

    /// <summary>Callers holding <paramref name="role"/> or above.</summary>
    public static AccessRule AtLeast(AccessRole role) => new(AccessRuleKind.Key, role, null);

    /// <summary>Callers holding <paramref name="role"/>, or the credential of the host <paramref name="hostOf"/> names.</summary>
    public static AccessRule HostOr(AccessRole role, Func<object, string?> hostOf) => new(AccessRuleKind.Key, role, hostOf);

    /// <summary>Accelerator agents, which authenticate as agents rather than with API keys.</summary>
    public static AccessRule Agent { get; } = new(AccessRuleKind.Agent, AccessRole.Admin, null);

    /// <summary>Anyone, without a credential: only for what says nothing secret (the health service).</summary>
    public static AccessRule Open { get; } = new(AccessRuleKind.Open, AccessRole.Admin, null);
}

/// <summary>How a caller of a broker method authenticates.</summary>
internal enum AccessRuleKind
{
    /// <summary>An operator API key or a host credential.</summary>
    Key,

    /// <summary>An accelerator agent.</summary>
    Agent,

    /// <summary>Anyone: probes carry no credential.</summary>
    Open,
}
