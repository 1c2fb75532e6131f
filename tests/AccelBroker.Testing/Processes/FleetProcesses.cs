using System.Diagnostics;

namespace AccelBroker.Tests.Processes;

/// <summary>
/// Real broker and agent executables as child processes on 127.0.0.1 port 0, for fault tests (kill -9, SIGSTOP,
/// restarts). The executables are the built <c>AccelBroker.Broker.dll</c> and <c>AccelBroker.Agent.dll</c> next to
/// the test assembly (a test project that references both projects has them); each host gets its own data directory
/// under <see cref="Root"/>, and its address comes from <c>--address-file</c>. Use <see cref="Logs"/> in assertion
/// messages: it holds every process's output. Disposing kills every process and deletes <see cref="Root"/>.
/// </summary>
/// <example>
/// <code>
/// await using var fleet = new FleetProcesses();
/// HostProcess broker = await fleet.StartBrokerAsync();
/// HostProcess agent = await fleet.StartAgentAsync(broker.Address, "agent-1");
/// await agent.KillAsync();
/// await agent.RestartAsync();
/// </code>
/// </example>
public sealed class FleetProcesses : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly List<HostProcess> _hosts = [];

    /// <param name="binDirectory">Where the host executables are; the test assembly's directory by default.</param>
    public FleetProcesses(string? binDirectory = null)
    {
        _binDirectory = binDirectory ?? AppContext.BaseDirectory;
        Root = Path.Combine(Path.GetTempPath(), $"accel-processes-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The folder holding every host's data directory and address file.</summary>
    public string Root { get; }

    /// <summary>Every process's captured output, for assertion messages. Holds no secret: admin keys go to files.</summary>
    public string Logs() => string.Join("\n", _hosts.Select(h => h.Output));

    /// <summary>Where <see cref="StartBrokerAsync"/> wrote the broker's admin key.</summary>
    public string AdminKeyFile(HostProcess broker) => Path.Combine(Root, broker.Name + ".admin-key");

    /// <summary>
    /// Starts a broker with its own <c>--data-dir</c>, an admin key written to <see cref="AdminKeyFile"/>, no metrics
    /// endpoint (unless <c>--metrics-listen</c> is among <paramref name="arguments"/>) and 30 s for each call to an agent (an agent's first slice starts a worker process, slow on a loaded
    /// machine); <paramref name="arguments"/> are added to its command line (for example <c>--heartbeat-interval 1</c>).
    /// </summary>
    public Task<HostProcess> StartBrokerAsync(params string[] arguments)
    {
        string name = $"broker-{_hosts.Count(h => h.Name.StartsWith("broker", StringComparison.Ordinal)) + 1}";
        // A fixed --listen among the arguments (a broker restarted on the same address) replaces port 0.
        string[] listen = arguments.Contains("--listen") ? [] : ["--listen", "http://127.0.0.1:0"];
        return StartAsync(name, "AccelBroker.Broker.dll",
        [
            .. listen,
            .. MetricsOffUnlessGiven(arguments),
            "--data-dir", Path.Combine(Root, name),
            "--admin-key-file", Path.Combine(Root, name + ".admin-key"),
            .. arguments,
        ], new Dictionary<string, string> { ["ACCELBROKER_BROKER__AGENTCALLTIMEOUT"] = "30" });
    }

    /// <summary>
    /// Starts an agent registered with <paramref name="brokerUrl"/> as <paramref name="agentId"/>, with its data directory
    /// (<paramref name="dataDirectory"/>, or one of its own under <see cref="Root"/>) and <paramref name="memoryMib"/> MiB to offer.
    /// </summary>
    public Task<HostProcess> StartAgentAsync(string brokerUrl, string agentId, string? dataDirectory = null, long memoryMib = 4096, params string[] arguments) =>
        StartAsync(agentId, "AccelBroker.Agent.dll",
        [
            "--broker", brokerUrl,
            "--listen", "http://127.0.0.1:0",
            .. MetricsOffUnlessGiven(arguments),
            "--agent-id", agentId,
            "--data-dir", dataDirectory ?? Path.Combine(Root, agentId),
            "--memory-mib", memoryMib.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. arguments,
        ], new Dictionary<string, string>());

    /// <summary>
    /// Polls <paramref name="condition"/> every 100 ms until it holds or <paramref name="limit"/> passes; then fails with
    /// <paramref name="what"/> and every process's output.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{what}: not within {limit}\n{Logs()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (HostProcess host in _hosts)
        {
            await host.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // No metrics endpoint unless the caller asks for one (a soak scrapes the runtime's heap figures).
    private static string[] MetricsOffUnlessGiven(IReadOnlyList<string> arguments) =>
        arguments.Contains("--metrics-listen") ? [] : ["--metrics-listen", "off"];

    private async Task<HostProcess> StartAsync(string name, string dll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        string path = Path.Combine(_binDirectory, dll);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{dll} is not next to the tests ({_binDirectory}); reference its project from the test project", path);
        }

        var host = new HostProcess(name, path, [.. arguments, "--address-file", Path.Combine(Root, name + ".address")], Path.Combine(Root, name + ".address"), Root, environment);
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }
}
