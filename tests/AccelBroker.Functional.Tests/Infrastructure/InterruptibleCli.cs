using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>The accel CLI as a child process whose output is read as it comes, so a test can wait for a line and then send SIGINT.</summary>
internal sealed class InterruptibleCli : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    public InterruptibleCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "accel.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("ACCEL_BROKER");
        start.Environment.Remove("ACCEL_API_KEY");
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start accel");
        _process.OutputDataReceived += (_, e) => Add(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Add(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string StdOut => string.Join('\n', _stdout);

    public string StdErr => string.Join('\n', _stderr);

    public string Output => $"stdout:\n{StdOut}\nstderr:\n{StdErr}";

    public async Task WaitForErrorLineAsync(string start, TimeSpan limit, FleetProcesses fleet)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && !_stderr.Any(l => l.StartsWith(start, StringComparison.Ordinal)))
        {
            Assert.False(_process.HasExited, $"accel exited before '{start}'\n{Output}\n{fleet.Logs()}");
            await Task.Delay(100);
        }

        Assert.True(_stderr.Any(l => l.StartsWith(start, StringComparison.Ordinal)), $"no '{start}' within {limit}\n{Output}\n{fleet.Logs()}");
    }

    /// <summary>SIGINT, as Ctrl-C in a terminal sends it.</summary>
    public void Interrupt()
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        Assert.True(kill.WaitForExit(10_000) && kill.ExitCode == 0, "kill -INT failed");
    }

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await _process.WaitForExitAsync(timeout.Token);
        // The asynchronous readers have seen the last lines once this returns.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Add(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }
}
