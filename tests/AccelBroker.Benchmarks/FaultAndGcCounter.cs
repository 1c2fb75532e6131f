using System.Globalization;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Page faults and garbage collections over a stretch of calls: this process (client, broker and the agent's host,
/// which share it in the benchmark) and the agent's slice workers (its child processes), read from /proc.
/// </summary>
internal sealed class FaultAndGcCounter
{
    private readonly long _faults;
    private readonly long _workerFaults;
    private readonly int[] _collections;
    private readonly long _allocated;

    private FaultAndGcCounter()
    {
        _faults = FaultsOf(Environment.ProcessId);
        _workerFaults = WorkerFaults();
        _collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        _allocated = GC.GetTotalAllocatedBytes(precise: true);
    }

    public static FaultAndGcCounter Start() => new();

    /// <summary>Per call since the start: this process's faults, the workers' faults, gen0/1/2 collections and managed bytes allocated.</summary>
    public PerCallCounts PerCall(int calls)
    {
        double n = Math.Max(1, calls);
        return new PerCallCounts(
            (FaultsOf(Environment.ProcessId) - _faults) / n,
            (WorkerFaults() - _workerFaults) / n,
            (GC.CollectionCount(0) - _collections[0]) / n,
            (GC.CollectionCount(1) - _collections[1]) / n,
            (GC.CollectionCount(2) - _collections[2]) / n,
            (GC.GetTotalAllocatedBytes(precise: true) - _allocated) / n);
    }

    // Minor plus major faults: fields 10 and 12 of /proc/PID/stat, counted after the command name's closing parenthesis.
    private static long FaultsOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture) + long.Parse(fields[9], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private static long WorkerFaults()
    {
        string self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        long total = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            string name = Path.GetFileName(dir);
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[1] == self)
                {
                    total += FaultsOf(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
            {
            }
        }

        return total;
    }
}
