using System.Runtime.InteropServices;
using TorchSharp;

namespace AccelBroker.Benchmarks;

/// <summary>Where and how a run was measured, printed above the results and written to --json.</summary>
internal sealed record RunEnvironment(
    DateTimeOffset StartedAt,
    string Machine,
    int Cores,
    string Os,
    string Runtime,
    string Torch,
    int IntraOpThreads,
    bool ServerGc,
    string Mode,
    string CommandLine,
    string Tuning)
{
    // Settings that change these numbers when set in the environment.
    private static readonly string[] TuningVariables =
        ["THP_MEM_ALLOC_ENABLE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "DOTNET_gcServer", "DOTNET_GCgen0size", "DOTNET_GCRetainVM", "DOTNET_TieredPGO"];

    public static RunEnvironment Capture(BenchmarkSettings settings, IReadOnlyList<string> args) => new(
        DateTimeOffset.Now,
        Environment.MachineName,
        Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        torch.__version__,
        torch.get_num_threads(),
        System.Runtime.GCSettings.IsServerGC,
        settings.Quick ? "quick" : "full",
        "dotnet run -c Release --project tests/AccelBroker.Benchmarks --" + string.Concat(args.Select(a => " " + a)),
        string.Join(", ", TuningVariables.Where(v => Environment.GetEnvironmentVariable(v) is not null).Select(v => $"{v}={Environment.GetEnvironmentVariable(v)}")));

    public IEnumerable<string> Describe()
    {
        yield return Fmt.Invariant($"date      : {StartedAt:yyyy-MM-dd HH:mm:ss zzz}");
        yield return $"machine   : {Machine}, {Cores} cores, {Os}";
        yield return $"runtime   : {Runtime}, {(ServerGc ? "server" : "workstation")} GC; torch {Torch}, {IntraOpThreads} intra-op threads (process-wide)";
        yield return $"tuning env: {(Tuning.Length == 0 ? "none set (" + string.Join(", ", TuningVariables) + ")" : Tuning)}";
        yield return $"mode      : {Mode}; everything on loopback in this process (broker + CPU agent + client)";
        yield return $"command   : {CommandLine}";
        yield return $"note      : {Samples.PercentileDefinition}; 1 MB = 10^6 bytes";
    }
}
