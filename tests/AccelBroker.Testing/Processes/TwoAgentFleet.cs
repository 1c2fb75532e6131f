using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Tests.Processes;

/// <summary>
/// A broker and two CPU agents (<c>agent-1</c>, <c>agent-2</c>) as real processes on loopback, both registered healthy,
/// and a fleet client holding the broker's admin key: the fleet the fault tests and the fault benchmark start from.
/// Disposing kills every process.
/// </summary>
public sealed class TwoAgentFleet : IAsyncDisposable
{
    private TwoAgentFleet(FleetProcesses processes, HostProcess broker, string adminKey, FleetClient client, HostProcess[] agents)
    {
        Processes = processes;
        Broker = broker;
        AdminKey = adminKey;
        Client = client;
        Agents = agents;
    }

    public FleetProcesses Processes { get; }

    public HostProcess Broker { get; }

    /// <summary>The broker's admin key, also the host credential the fault loads use.</summary>
    public string AdminKey { get; }

    public FleetClient Client { get; }

    public IReadOnlyList<HostProcess> Agents { get; }

    /// <summary>Starts the broker with <paramref name="brokerArguments"/>, then both agents, and waits up to <paramref name="limit"/> for both to be healthy.</summary>
    public static async Task<TwoAgentFleet> StartAsync(string[] brokerArguments, TimeSpan limit)
    {
        var processes = new FleetProcesses();
        try
        {
            HostProcess broker = await processes.StartBrokerAsync(brokerArguments);
            string adminKey = (await File.ReadAllTextAsync(processes.AdminKeyFile(broker))).Trim();
            HostProcess[] agents = [await processes.StartAgentAsync(broker.Address, "agent-1"), await processes.StartAgentAsync(broker.Address, "agent-2")];
            var client = new FleetClient(new FleetClientOptions { Broker = broker.Address, ApiKey = adminKey });
            var fleet = new TwoAgentFleet(processes, broker, adminKey, client, agents);
            await processes.WaitUntilAsync(async () => (await client.DescribeAgentsAsync()).Count(a => a.Health == AgentHealth.Healthy) == 2, limit, "both agents registered");
            return fleet;
        }
        catch
        {
            await processes.DisposeAsync();
            throw;
        }
    }

    /// <summary>The agent process an attached accelerator was placed on.</summary>
    public HostProcess HolderOf(Accelerator accelerator) => Agents.Single(a => a.Name == accelerator.AgentId);

    /// <summary>Session options for <paramref name="host"/>'s accelerators through this broker.</summary>
    public AcceleratorSessionOptions SessionOptions(string host) => new() { Broker = Broker.Address, Host = host, HostCredential = AdminKey };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Processes.DisposeAsync();
    }
}
