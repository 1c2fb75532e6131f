using System.Diagnostics;
using System.Security.Cryptography;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using AccelBroker.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Fault matrix 5: the model store full, by its own capacity or by its disk. An upload is refused with
/// ResourceExhausted naming the limit, its partial file is deleted, and the models the agent holds keep running.
/// </summary>
public sealed class ModelStoreFullTests
{
    private const int Mib = 1 << 20;

    [Fact]
    public async Task AStoreFullOfLoadedModelsRefusesAnUploadNamingItsCapacityAndKeepsServing()
    {
        // Room for demo_mlp.pt (12 KiB) and a little more; once it is loaded it cannot be evicted.
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { ModelStoreBytes = 64 * 1024 });
        (string sliceId, string modelId) = await agent.LoadDemoAsync();

        RpcException refused = await UploadAsync(agent, sliceId, UploadMessages.RandomBytes(60 * 1024));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("the model store is full", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("--model-store-mib", refused.Status.Detail, StringComparison.Ordinal);
        await agent.AssertNothingLeftAsync();
        await agent.RunDemoAsync(sliceId, modelId);
    }

    [Fact]
    public async Task AFullDiskRefusesAnUploadDeletesThePartialFileAndKeepsServing()
    {
        // A real full disk: a 2 MiB tmpfs under the store (the tests run as root).
        string mount = Path.Combine(Path.GetTempPath(), $"accel-full-{Guid.NewGuid():N}");
        Directory.CreateDirectory(mount);
        Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount);
        try
        {
            await using (StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { DataDirectory = mount }))
            {
                (string sliceId, string modelId) = await agent.LoadDemoAsync();

                RpcException refused = await UploadAsync(agent, sliceId, UploadMessages.RandomBytes(3 * Mib));

                Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
                Assert.Contains("no space left on the model store's disk", refused.Status.Detail, StringComparison.Ordinal);
                await agent.AssertNothingLeftAsync();
                await agent.RunDemoAsync(sliceId, modelId);

                // With the partial file gone, the disk has room again for a model that fits.
                Assert.Null(await TryUploadAsync(agent, sliceId, UploadMessages.RandomBytes(Mib)));
            }
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    private static async Task<RpcException> UploadAsync(StandaloneAgent agent, string sliceId, byte[] bytes) =>
        await TryUploadAsync(agent, sliceId, bytes) ?? throw new Xunit.Sdk.XunitException("the upload was accepted");

    // On its own connection: chunks written after a refusal may reset the connection they travel on.
    private static async Task<RpcException?> TryUploadAsync(StandaloneAgent agent, string sliceId, byte[] bytes)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(agent.Address);
        var client = new InferenceAgent.InferenceAgentClient(channel);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = client.UploadModel(agent.SliceToken(sliceId), deadline: StandaloneAgent.Deadline());
        try
        {
            await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Length = bytes.Length } });
            for (int offset = 0; offset < bytes.Length; offset += WireLimits.ModelChunkBytes)
            {
                byte[] chunk = bytes[offset..Math.Min(bytes.Length, offset + WireLimits.ModelChunkBytes)];
                await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = chunk.Length, Data = ByteString.CopyFrom(chunk) } });
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The agent ended the call first; its status is the answer.
        }

        try
        {
            await call.ResponseAsync;
            return null;
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }

    private static void Run(string file, params string[] args)
    {
        using Process process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), $"{file} did not finish");
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {error}");
    }
}
