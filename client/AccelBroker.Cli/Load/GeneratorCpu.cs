using System.Diagnostics;
using System.Globalization;

namespace AccelBroker.Cli.Load;

/// <summary>
/// What the load generator's machine was doing during a run: this process's CPU time over the wall time (in cores
/// and as a share of all cores), and the whole machine's busy share from /proc/stat where there is one.
/// </summary>
/// <remarks>
/// The rule for "saturated", so that a slow client is not reported as a slow accelerator: this process used at least
/// <see cref="ProcessLimit"/> of all the machine's cores, or the machine as a whole was at least
/// <see cref="MachineLimit"/> busy. Either means calls may have waited for this machine's CPU rather than the
/// accelerator; an agent on the same machine (loopback) counts towards the second.
/// </remarks>
internal sealed record GeneratorCpu(double ProcessCores, double ProcessShare, double? MachineBusyShare, int Cores)
{
    public const double ProcessLimit = 0.80;
    public const double MachineLimit = 0.90;

    public const string Rule = "saturated when this process used >= 80 % of all cores, or the whole machine (/proc/stat) was >= 90 % busy";

    public bool Saturated => ProcessShare >= ProcessLimit || MachineBusyShare >= MachineLimit;

    public string Describe()
    {
        string machine = MachineBusyShare is { } busy ? string.Create(CultureInfo.InvariantCulture, $", machine {busy * 100:0} % busy") : "";
        return string.Create(CultureInfo.InvariantCulture, $"generator CPU: {ProcessCores:0.00} of {Cores} cores ({ProcessShare * 100:0} %){machine}");
    }

    public string? Warning => Saturated
        ? "warning: the client machine was saturated (" + Describe() + "): throughput and latency may measure this machine, not the accelerator"
        : null;

    /// <summary>Starts measuring; <see cref="Sampler.Stop"/> gives the figures since.</summary>
    public static Sampler Start(TimeProvider time) => new(time);

    internal sealed class Sampler
    {
        private readonly TimeProvider _time;
        private readonly long _startedAt;
        private readonly TimeSpan _processStart;
        private readonly (long Busy, long Total)? _machineStart;

        public Sampler(TimeProvider time)
        {
            _time = time;
            _startedAt = time.GetTimestamp();
            _processStart = ProcessTime();
            _machineStart = ReadProcStat();
        }

        public GeneratorCpu Stop()
        {
            double wall = _time.GetElapsedTime(_startedAt).TotalSeconds;
            double cpu = (ProcessTime() - _processStart).TotalSeconds;
            int cores = Environment.ProcessorCount;
            double processCores = wall > 0 ? cpu / wall : 0;
            double? machine = null;
            if (_machineStart is { } before && ReadProcStat() is { } after && after.Total > before.Total)
            {
                machine = (double)(after.Busy - before.Busy) / (after.Total - before.Total);
            }

            return new GeneratorCpu(processCores, processCores / cores, machine, cores);
        }

        private static TimeSpan ProcessTime()
        {
            using Process self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }

        // The first line of /proc/stat: jiffies in user, nice, system, idle, iowait, irq, softirq, steal; idle and iowait are not busy.
        private static (long Busy, long Total)? ReadProcStat()
        {
            try
            {
                using var reader = new StreamReader("/proc/stat");
                string? line = reader.ReadLine();
                if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
                {
                    return null;
                }

                long[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                    .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                long total = fields.Sum();
                long idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
                return (total - idle, total);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
            {
                return null;
            }
        }
    }
}
