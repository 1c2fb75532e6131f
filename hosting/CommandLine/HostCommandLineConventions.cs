namespace AccelBroker.Hosting.CommandLine;

/// <summary>
/// Where the hosts' command lines still differ, because scripts may rely on each: the broker has always refused a
/// flag given twice and an empty value, the agent has always let the last one win and passed an empty value on.
/// </summary>
public sealed record HostCommandLineConventions
{
    /// <summary>A flag given twice is an error ("option --x is given more than once"); otherwise the last one wins.</summary>
    public bool RejectRepeatedFlags { get; init; }

    /// <summary>An empty value (<c>--x=</c>, <c>--x ""</c>) is an error ("option --x needs a non-empty value").</summary>
    public bool RejectEmptyValues { get; init; }
}
