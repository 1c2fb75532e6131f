namespace AccelBroker.Hosting.Tokens;

/// <summary>What a broker-signed token lets its bearer do on one agent.</summary>
public enum AccessScope
{
    /// <summary>A client host's access to one slice: its models, runs and echo.</summary>
    Slice,

    /// <summary>The broker itself: assigning and releasing slices (AgentControl).</summary>
    Control,

    /// <summary>An operator's access to the agent as a whole: its model store, its information and the local benchmark.</summary>
    Operator,
}
