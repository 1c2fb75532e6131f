using System.Collections.Concurrent;
using System.Diagnostics;

namespace AccelBroker.Tests.Processes;

/// <summary>
/// One broker or agent executable run as a child process (<c>dotnet Host.dll …</c>), its stdout and stderr captured,
/// its bound address learnt from <c>--address-file</c>. Kill, Stop and Continue send SIGKILL, SIGSTOP and SIGCONT;
/// Restart starts it again with the same command line (same data directory and agent id) after a kill.
/// Every wait is bounded; disposing kills what is still running.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(30);

    private readonly string _dll;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _addressFile;
    private readonly string _workingDirectory;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private readonly IReadOnlyDictionary<string, string> _environment;

    internal HostProcess(string name, string dll, IReadOnlyList<string> arguments, string addressFile, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        _environment = environment;
        Name = name;
        _dll = dll;
        _arguments = arguments;
        _addressFile = addressFile;
        _workingDirectory = workingDirectory;
    }

    /// <summary>A name for messages, such as <c>broker</c> or <c>agent-1</c>.</summary>
    public string Name { get; }

    /// <summary>The gRPC address it listens on (changes after <see cref="RestartAsync"/> with port 0).</summary>
    public string Address { get; private set; } = "";

    /// <summary>The process id of the current run.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Whether the current run has exited.</summary>
    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr, across restarts, one line each (stderr marked).</summary>
    public string Output => string.Join('\n', _output);

    internal async Task StartAsync()
    {
        File.Delete(_addressFile);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _workingDirectory,
        };
        foreach ((string key, string value) in _environment)
        {
            start.Environment[key] = value;
        }

        start.ArgumentList.Add(_dll);
        foreach (string argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _output.Enqueue($"--- {Name}: dotnet {Path.GetFileName(_dll)} {string.Join(' ', _arguments)}");
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{Name} did not start");
        process.OutputDataReceived += (_, e) => Capture(e.Data, "");
        process.ErrorDataReceived += (_, e) => Capture(e.Data, "stderr: ");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartLimit)
        {
            if (File.Exists(_addressFile) && (await File.ReadAllTextAsync(_addressFile)).Trim() is { Length: > 0 } address)
            {
                Address = address;
                return;
            }

            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before listening:\n{Output}");
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{Name} wrote no address to {_addressFile} within {StartLimit}:\n{Output}");
    }

    /// <summary>SIGKILL, with its child processes (an agent's slice workers), as when its machine dies; waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            using var limit = new CancellationTokenSource(ExitLimit);
            await process.WaitForExitAsync(limit.Token);
        }
    }

    /// <summary>SIGSTOP: the process stays alive but silent (no heartbeats, no answers) until <see cref="Continue"/>.</summary>
    public void Stop() => Signal("-STOP");

    /// <summary>SIGCONT after <see cref="Stop"/>.</summary>
    public void Continue() => Signal("-CONT");

    /// <summary>Kills the current run if it is still alive and starts the same command line again; waits until it listens.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process?.Dispose();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A stopped process cannot die until it is continued.
            if (_process is { HasExited: false })
            {
                Continue();
            }

            await KillAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Gone already, or did not go in time: nothing more can be done here.
        }

        _process?.Dispose();
    }

    private void Signal(string signal)
    {
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException($"{Name} is not running");
        }

        using Process kill = Process.Start(new ProcessStartInfo("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        if (!kill.WaitForExit((int)ExitLimit.TotalMilliseconds) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {process.Id} failed");
        }
    }

    private void Capture(string? line, string prefix)
    {
        if (line is not null)
        {
            Logging.SecretScan.Suite.Inspect(Name, line);
            _output.Enqueue($"[{Name}] {prefix}{line}");
        }
    }
}
