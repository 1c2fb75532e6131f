using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Broker.Tokens;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;
using Tensor = AccelBroker.Client.Tensor;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// A planned drain with a real broker and two real CPU agents on loopback: the slice's models are copied, loaded and
/// warmed on the new agent before clients are switched, so a client that moves finds them loaded.
/// </summary>
public sealed class DrainTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("accel-drain-").FullName;
    private readonly RecordingLoggerProvider _logs = new();
    private readonly List<WebApplication> _apps = [];
    private WebApplication _broker = null!;
    private string _brokerUrl = "";

    public async Task InitializeAsync()
    {
        _broker = await StartAsync(BrokerHost.Build(
            new BrokerOptions { Listen = "http://127.0.0.1:0", HeartbeatInterval = TimeSpan.FromSeconds(1) },
            logging => Log(logging, "broker")));
        _brokerUrl = _broker.Urls.First();
        TestCredentials.Register(_brokerUrl, BrokerHost.CreateApiKey(_broker, "test-admin"));
        foreach (string name in new[] { "a", "b" })
        {
            await StartAsync(AgentHost.Build(
                new AgentOptions
                {
                    Listen = "http://127.0.0.1:0",
                    BrokerAddress = _brokerUrl,
                    Device = "cpu",
                    DataDirectory = Path.Combine(_directory, name),
                    MemoryBytes = 4L << 30,
                    MetricsListen = null,
                },
                logging => Log(logging, "agent-" + name)));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (WebApplication app in Enumerable.Reverse(_apps).ToList())
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        TestCredentials.Forget(_brokerUrl);
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ADrainedSlicesModelsAreLoadedOnItsNewAgentBeforeClientsSwitch()
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(_brokerUrl);
        var broker = new BrokerClient(channel.Intercept(TestCredentials.Adding(_brokerUrl)));
        await WaitForAgentsAsync(broker, 2);
        Accelerator before = (await broker.AttachAsync(new AttachRequest { Host = "drain-host", SliceType = "eia2.medium" }, deadline: TestCluster.Deadline())).Accelerator;
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        var loadOptions = new ModelLoadOptions { WarmupInputs = [(input.DataType, input.Shape.ToArray())], Alias = "drained" };
        RemoteModel model;
        float[] expected;
        await using (AcceleratorSession session = await OpenAsync())
        {
            model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), loadOptions);
            expected = (await session.RunAsync(model, [input]))[0].ToArray<float>();
        }

        DrainAgentResponse drained = await broker.DrainAgentAsync(new DrainAgentRequest { AgentId = before.AgentId }, deadline: TestCluster.Deadline());

        Assert.Equal((1, 0), (drained.SlicesMoved, drained.SlicesStranded.Count));
        Accelerator after = (await broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "drain-host" }, deadline: TestCluster.Deadline())).Accelerator;
        Assert.NotEqual(before.AgentId, after.AgentId);
        Assert.Equal((before.Id, 2L), (after.Id, after.Epoch));

        // Before any client came: the new agent already has the model resident, loaded with the same options.
        SliceModel ready = Assert.Single((await ListModelsAsync(after)).Models);
        Assert.Equal((model.Sha256, "drained", true, 1L), (ready.Sha256, ready.Alias, ready.Resident, ready.LoadCount));
        Assert.Equal(input.Shape.ToArray(), ready.WarmupInputs.Single().Shape.ToArray());
        Assert.Contains(_logs.Messages, m => m.Name == "HandedOver" && m.Message.Contains("1 model(s) loaded", StringComparison.Ordinal));

        // A client on the new placement finds it loaded (no upload, no second load) and gets the same outputs.
        await using AcceleratorSession moved = await OpenAsync();
        Assert.Equal(after.AgentAddress, moved.Accelerator.AgentAddress);
        RemoteModel again = await moved.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), loadOptions);
        Assert.False(again.Uploaded);
        Assert.Equal(model.ModelId, again.ModelId);
        Assert.Equal(expected, (await moved.RunAsync(again, [input]))[0].ToArray<float>());
        Assert.Equal(1, Assert.Single((await ListModelsAsync(after)).Models).LoadCount);

        // The drained agent dropped the slice: its old epoch reaches nothing.
        await WaitUntilAsync(async () => (await broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline()))
            .Agents.Single(a => a.AgentId == before.AgentId) is { Cordoned: true, Accelerators.Count: 0 });
        RpcException stale = await Assert.ThrowsAsync<RpcException>(() => ListModelsAsync(before));
        Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
    }

    private Task<AcceleratorSession> OpenAsync() => AcceleratorSession.OpenAsync(new AcceleratorSessionOptions
    {
        Broker = _brokerUrl,
        Host = "drain-host",
        HostCredential = TestCredentials.KeyOf(_brokerUrl),
        UsageReportInterval = TimeSpan.Zero,
    });

    // As a client of that placement would: with a slice token the broker signs for it.
    private async Task<ListModelsResponse> ListModelsAsync(Accelerator placement)
    {
        string token = _broker.Services.GetRequiredService<AccessTokenMinter>().Slice(placement.AgentId, placement.Host, placement.Id, placement.Epoch).Token;
        using GrpcChannel agent = GrpcChannel.ForAddress(placement.AgentAddress);
        return await new InferenceAgent.InferenceAgentClient(agent).ListModelsAsync(
            new ListModelsRequest { SliceId = placement.Id }, new Metadata { { "authorization", "Bearer " + token } }, TestCluster.Deadline());
    }

    private async Task<WebApplication> StartAsync(WebApplication app)
    {
        _apps.Add(app);
        await app.StartAsync();
        return app;
    }

    private void Log(ILoggingBuilder logging, string prefix)
    {
        logging.ClearProviders();
        logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
        logging.AddProvider(_logs);
        logging.SetMinimumLevel(LogLevel.Debug);
    }

    private static Task WaitForAgentsAsync(BrokerClient broker, int count) =>
        WaitUntilAsync(async () => (await broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline()))
            .Agents.Count(a => a.Health == AgentHealth.Healthy) == count);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the condition did not hold within {WaitLimit}");
    }
}
