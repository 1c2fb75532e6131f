namespace AccelBroker.Agent.Isolation;

/// <summary>Names how a worker ended from its exit status and the last lines it wrote to stderr.</summary>
internal static class CrashDescription
{
    public static string Of(int? exitCode, IReadOnlyList<string> lastErrors)
    {
        string? signal = exitCode is > 128 and < 160 ? SignalName(exitCode.Value - 128) : null;
        if (lastErrors.Any(line => line.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase)))
        {
            return "stack overflow";
        }

        if (lastErrors.Any(line => line.Contains("terminate called", StringComparison.Ordinal)))
        {
            return $"std::terminate, {signal ?? "SIGABRT"}";
        }

        return signal ?? (exitCode is { } code ? $"exit code {code}" : "ended");
    }

    private static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL: killed, e.g. out of memory",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => $"signal {signal}",
    };
}
