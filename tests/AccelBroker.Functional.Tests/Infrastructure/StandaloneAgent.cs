using AccelBroker.Tests.Logging;
using System.Globalization;
using System.Security.Cryptography;
using AccelBroker.Agent;
using AccelBroker.Agent.Models;
using AccelBroker.Client.Internal;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using AccelBroker.Tests.Tokens;
using Xunit;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// A real agent without a broker on loopback Kestrel (port 0), hosted in this process so that its resident memory
/// and open descriptors are this process's, with raw clients for its inference and control services.
/// </summary>
internal sealed class StandaloneAgent : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    public const string AgentId = "standalone-agent";

    private readonly TestTokenIssuer _issuer = new();

    private StandaloneAgent(WebApplication app, string dataDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        // No broker: the agent trusts this test's key instead, and every raw call carries the token it needs.
        _channel = GrpcChannel.ForAddress(app.Urls.First());
        CallInvoker invoker = _issuer.TrustedBy(app.Services, _channel, AgentId);
        Client = new InferenceAgent.InferenceAgentClient(invoker);
        Control = new AgentControl.AgentControlClient(invoker);
    }

    /// <summary>Signs tokens the agent trusts.</summary>
    public TestTokenIssuer Issuer => _issuer;

    /// <summary>A client whose calls carry no token unless they set one.</summary>
    public InferenceAgent.InferenceAgentClient Anonymous => new(_channel);

    public string DataDirectory { get; }

    /// <summary>The agent's gRPC address on loopback.</summary>
    public string Address => _app.Urls.First();

    public InferenceAgent.InferenceAgentClient Client { get; }

    public AgentControl.AgentControlClient Control { get; }

    public UploadAdmission Admission => _app.Services.GetRequiredService<UploadAdmission>();

    public static async Task<StandaloneAgent> StartAsync(Func<AgentOptions, AgentOptions> configure)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), $"accel-standalone-{Guid.NewGuid():N}");
        AgentOptions options = configure(new AgentOptions { Listen = "http://127.0.0.1:0", DataDirectory = dataDirectory, MemoryBytes = 1L << 30, AgentId = AgentId });
        WebApplication app = AgentHost.Build(options, logging => logging.ClearProviders().AddSuiteScan());
        await app.StartAsync();
        return new StandaloneAgent(app, options.DataDirectory ?? dataDirectory);
    }

    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);

    /// <summary>Partial files in the store, and descriptors this process holds open on any of them.</summary>
    public (int Files, int Descriptors) Leftovers()
    {
        int descriptors = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(DataDirectory, StringComparison.Ordinal) && target.Contains(".partial", StringComparison.Ordinal))
                {
                    descriptors++;
                }
            }
            catch (IOException)
            {
                // A descriptor closed while it was listed.
            }
        }

        return (Directory.GetFiles(DataDirectory, "*.partial").Length, descriptors);
    }

    /// <summary>Resident memory of this process, which hosts the agent.</summary>
    public static long ResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Waits (bounded) until every upload's reservation is freed, and that nothing half-stored is left.</summary>
    public async Task AssertNothingLeftAsync()
    {
        // The agent notices a client's reset asynchronously; give it a bounded moment.
        for (int i = 0; i < 250 && (Admission.Uploads != 0 || Leftovers() != (0, 0)); i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal((0, 0L), (Admission.Uploads, Admission.Bytes));
        Assert.Equal((0, 0), Leftovers());
    }

    /// <summary>A normal upload of demo_mlp.pt, its load onto a fresh slice and a run of it: the agent still serves.</summary>
    public async Task AssertStillServesAsync()
    {
        (string sliceId, string modelId) = await LoadDemoAsync();
        await RunDemoAsync(sliceId, modelId);
        await Control.ReleaseSliceAsync(new ReleaseSliceRequest { SliceId = sliceId }, deadline: Deadline());
    }

    /// <summary>A fresh slice with demo_mlp.pt uploaded through it and loaded; the slice stays assigned.</summary>
    public async Task<(string SliceId, string ModelId)> LoadDemoAsync()
    {
        string sliceId = "acc-" + Guid.NewGuid().ToString("N");
        await Control.AssignSliceAsync(
            new AssignSliceRequest { Slice = new SliceAssignment { SliceId = sliceId, SliceType = "test.small", MemoryBytes = 64L << 20, ComputeShare = 0.1, Host = "h", Ordinal = 0 } },
            deadline: Deadline());
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt"));
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        // Uploaded through the slice, as a client host would: a slice loads only bytes that came through it.
        using (AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = Client.UploadModel(SliceToken(sliceId), deadline: Deadline()))
        {
            await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = bytes.Length } });
            await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = bytes.Length, Data = ByteString.CopyFrom(bytes) } });
            await call.RequestStream.CompleteAsync();
            UploadModelResponse uploaded = await call;
            Assert.Equal((sha256, (long)bytes.Length), (uploaded.Sha256, uploaded.Length));
        }

        LoadModelResponse loaded = await Client.LoadModelAsync(new LoadModelRequest { SliceId = sliceId, Sha256 = sha256 }, deadline: Deadline());
        return (sliceId, loaded.ModelId);
    }

    /// <summary>A run of demo_mlp.pt loaded by <see cref="LoadDemoAsync"/>, checked for its output's shape.</summary>
    public async Task RunDemoAsync(string sliceId, string modelId)
    {
        var run = new RunRequest { SliceId = sliceId, ModelId = modelId };
        run.Inputs.Add(WireConversion.ToProto(Fixtures.Npy("demo_mlp.input0.npy"), compress: false));
        RunResponse response = await Client.RunAsync(run, deadline: Deadline());
        Assert.Equal([1L, 8L], Assert.Single(response.Outputs).Shape);
    }

    /// <summary>Call headers with a slice token for <paramref name="sliceId"/>.</summary>
    public Metadata SliceToken(string sliceId) => new() { { "authorization", "Bearer " + _issuer.Mint(AccessScope.Slice, AgentId, sliceId) } };

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        _issuer.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
