namespace AccelBroker.Cli.Comparing;

/// <summary>
/// Where a standalone CPU row really ran: this machine's CPU, whatever instance type the row is priced as, so a
/// laptop's figures are not mistaken for a c5.xlarge's.
/// </summary>
internal static class HostCpu
{
    private static readonly Lazy<string> This = new(() => Describe(ReadCpuInfo(), Environment.ProcessorCount));

    /// <summary>"this machine's CPU: Intel(R) Xeon(R) ..., 2 cores".</summary>
    public static string Description => This.Value;

    /// <summary><paramref name="cores"/> is what this process may use (<see cref="Environment.ProcessorCount"/>: affinity and container limits applied).</summary>
    public static string Describe(string? cpuInfo, int cores) =>
        $"this machine's CPU: {ModelName(cpuInfo) ?? "model unknown"}, {cores} {(cores == 1 ? "core" : "cores")}";

    /// <summary>The first "model name" of /proc/cpuinfo (x86), else its "Hardware" or "Model" line (Arm); null if none.</summary>
    public static string? ModelName(string? cpuInfo)
    {
        if (cpuInfo is null)
        {
            return null;
        }

        string[] lines = cpuInfo.Split('\n');
        foreach (string key in (string[])["model name", "Hardware", "Model"])
        {
            foreach (string line in lines)
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim().Equals(key, StringComparison.Ordinal))
                {
                    string value = string.Join(' ', line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    if (value.Length > 0)
                    {
                        return value;
                    }
                }
            }
        }

        return null;
    }

    private static string? ReadCpuInfo()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
