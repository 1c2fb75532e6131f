using AccelBroker.Tests.Logging;
using System.Text.Json;
using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Cli;

/// <summary><c>accel agents enroll|list|revoke</c> against a real broker on loopback.</summary>
public sealed class AgentsCliTests : IAsyncLifetime
{
    private WebApplication _broker = null!;

    private string BrokerUrl => _broker.Urls.First();

    public async Task InitializeAsync()
    {
        // Never the process's console: an in-process CLI test running meanwhile captures it as the verb's output.
        _broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", RequireAgentEnrollment = true, MetricsListen = null }, logging => logging.ClearProviders().AddSuiteScan());
        string adminKey = BrokerHost.CreateApiKey(_broker, "cli-admin");
        await _broker.StartAsync();
        TestCredentials.Register(BrokerUrl, adminKey);
    }

    public async Task DisposeAsync()
    {
        TestCredentials.Forget(BrokerUrl);
        await _broker.StopAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task EnrollPrintsATokenThatEnrolsOnceListShowsTheAgentAndRevokeRevokesIt()
    {
        CliProcess.Result enrolled = await CliInProcess.RunAsync("agents", "enroll", "--name", "gpu-7", "--ttl", "30m", "--broker", BrokerUrl);
        Assert.True(enrolled.ExitCode == 0, enrolled.StdErr);
        string token = enrolled.StdOut.Trim();
        Assert.Matches("^abe_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", token);
        Assert.DoesNotContain(token, enrolled.StdErr, StringComparison.Ordinal);

        using GrpcChannel channel = GrpcChannel.ForAddress(BrokerUrl);
        EnrollAgentResponse agent = await new BrokerClient(channel).EnrollAgentAsync(
            new EnrollAgentRequest(), new Metadata { { "authorization", "Bearer " + token } }, deadline: TestCluster.Deadline());

        CliProcess.Result listed = await CliInProcess.RunAsync("agents", "list", "--json", "--broker", BrokerUrl);
        Assert.True(listed.ExitCode == 0, listed.StdErr);
        using (JsonDocument json = JsonDocument.Parse(listed.StdOut))
        {
            JsonElement entry = json.RootElement.GetProperty("agents").EnumerateArray().Single();
            Assert.Equal(agent.AgentId, entry.GetProperty("id").GetString());
            Assert.Equal("gpu-7", entry.GetProperty("name").GetString());
            Assert.Equal(JsonValueKind.Null, entry.GetProperty("revoked").ValueKind);
        }

        CliProcess.Result revoked = await CliInProcess.RunAsync("agents", "revoke", agent.AgentId, "--broker", BrokerUrl);
        Assert.True(revoked.ExitCode == 0, revoked.StdErr);
        Assert.Contains($"revoked {agent.AgentId} (gpu-7)", revoked.StdOut, StringComparison.Ordinal);

        CliProcess.Result table = await CliInProcess.RunAsync("agents", "list", "--broker", BrokerUrl);
        Assert.Contains("revoked", table.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Credential, table.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("agents enroll --name x --ttl soon", "--ttl 'soon' is not a duration")]
    [InlineData("agents enroll --name x --ttl 31d", "ttl must be more than 0 and at most 30 days")]
    [InlineData("agents revoke agent-000000000000", "no enrolled agent 'agent-000000000000'")]
    public async Task BadInputIsAClearError(string args, string message)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args.Split(' '), "--broker", BrokerUrl]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.StdErr, StringComparison.Ordinal);
    }
}
