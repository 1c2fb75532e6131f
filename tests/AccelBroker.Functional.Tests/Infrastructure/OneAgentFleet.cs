using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Processes;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// A broker and one healthy agent as real processes on loopback, with the broker's admin key and a fleet client that
/// holds it: what a test of the CLI as a process (Ctrl-C, exit codes) runs against.
/// </summary>
internal sealed class OneAgentFleet : IAsyncDisposable
{
    private OneAgentFleet(FleetProcesses processes, HostProcess broker, string keyFile, string adminKey)
    {
        Processes = processes;
        Broker = broker;
        KeyFile = keyFile;
        AdminKey = adminKey;
        Client = new FleetClient(new FleetClientOptions { Broker = broker.Address, ApiKey = adminKey });
    }

    public FleetProcesses Processes { get; }

    public HostProcess Broker { get; }

    /// <summary>The admin key's file, for the CLI's <c>--api-key-file</c>.</summary>
    public string KeyFile { get; }

    public string AdminKey { get; }

    public FleetClient Client { get; }

    /// <summary>Starts both and waits, within <paramref name="limit"/>, until the agent is healthy.</summary>
    public static async Task<OneAgentFleet> StartAsync(string agentId, TimeSpan limit, params string[] agentArguments)
    {
        var processes = new FleetProcesses();
        try
        {
            HostProcess broker = await processes.StartBrokerAsync();
            string keyFile = processes.AdminKeyFile(broker);
            string adminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
            await processes.StartAgentAsync(broker.Address, agentId, null, 4096, agentArguments);
            var fleet = new OneAgentFleet(processes, broker, keyFile, adminKey);
            await processes.WaitUntilAsync(async () => (await fleet.Client.DescribeAgentsAsync()).Any(a => a.Health == AgentHealth.Healthy), limit, "the agent registered");
            return fleet;
        }
        catch
        {
            await processes.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Processes.DisposeAsync();
    }
}
