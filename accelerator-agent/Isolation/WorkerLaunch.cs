using System.Diagnostics;
using System.Globalization;
using AccelBroker.Agent.Isolation.Worker;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// How to start a worker: this assembly's own executable (its apphost, or <c>dotnet exec</c> on its dll) with
/// the <c>worker</c> verb, so the worker runs exactly this build's execution code, whatever process hosts the
/// agent (the agent executable, <c>accel demo</c>, a test run).
/// </summary>
internal sealed record WorkerLaunch(string Device, int Threads, int Lanes, bool HugePages, WatchSlots ReplyWatch)
{
    public ProcessStartInfo StartInfo()
    {
        string assembly = typeof(WorkerMain).Assembly.Location;
        string directory = Path.GetDirectoryName(assembly)!;
        string apphost = Path.Combine(directory, Path.GetFileNameWithoutExtension(assembly));
        ProcessStartInfo info;
        if (File.Exists(apphost))
        {
            info = new ProcessStartInfo(apphost);
        }
        else
        {
            info = new ProcessStartInfo(DotnetHost());
            info.ArgumentList.Add("exec");
            // Packaged without its own runtime files (a dotnet tool): run under the host application's.
            if (!File.Exists(Path.ChangeExtension(assembly, ".runtimeconfig.json")) && System.Reflection.Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry)
            {
                info.ArgumentList.Add("--runtimeconfig");
                info.ArgumentList.Add(Path.ChangeExtension(entry, ".runtimeconfig.json"));
                info.ArgumentList.Add("--depsfile");
                info.ArgumentList.Add(Path.ChangeExtension(entry, ".deps.json"));
            }

            info.ArgumentList.Add(assembly);
        }

        info.ArgumentList.Add(WorkerMain.Verb);
        info.ArgumentList.Add("--agent-pid");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add("--device");
        info.ArgumentList.Add(Device);
        info.ArgumentList.Add("--threads");
        info.ArgumentList.Add(Threads.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add("--lanes");
        info.ArgumentList.Add(Lanes.ToString(CultureInfo.InvariantCulture));
        if (HugePages)
        {
            info.ArgumentList.Add("--huge-pages");
        }

        info.UseShellExecute = false;
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = directory;
        // A worker needs no server GC heaps of its own; the agent's configuration must not leak in either.
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment.Remove("ASPNETCORE_URLS");
        // Each worker has its own OpenMP pool. Idle pools that spin after a pass would take the cores from the
        // pass another slice's worker starts next; passive ones sleep at once. An operator's own setting wins.
        info.Environment.TryAdd("OMP_WAIT_POLICY", "PASSIVE");
        return info;
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";
}
