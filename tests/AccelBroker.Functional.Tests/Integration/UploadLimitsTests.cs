using System.Diagnostics;
using System.Security.Cryptography;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using AccelBroker.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Upload bombs against a real agent on loopback, through raw gRPC calls: stalled uploads, too many at once, declared
/// lengths the bytes do not keep, endless streams, LZ4 chunks that claim too much. Each is refused with a status
/// naming its limit, leaves no partial file, descriptor or reservation, and the agent keeps serving. Alone, because
/// they wait on short idle timeouts and measure this process's resident memory.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class UploadLimitsTests
{
    private const long FourGiB = 4L << 30;
    private const int Mib = 1 << 20;

    [Fact]
    public async Task FiftyStalledFourGiBUploadsAreRefusedPastTheLimitsAndTheAdmittedOnesEndAfterTheIdleTimeout()
    {
        // Two 4 GiB uploads fit in 10 GiB in flight; the concurrency limit is higher, so bytes decide.
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with
        {
            MaxConcurrentUploads = 4,
            MaxUploadBytesInFlight = 10L << 30,
            UploadIdleTimeout = TimeSpan.FromSeconds(5),
        });
        await agent.AssertStillServesAsync();
        long residentBefore = StandaloneAgent.ResidentBytes();

        // Each sends its header and then nothing, as the fuzzer's did. (Chunks written after the agent had refused their
        // uploads were seen to make Kestrel close the whole connection with STREAM_CLOSED, failing every call on it.)
        var uploads = new List<StalledUpload>();
        for (int i = 0; i < 50; i++)
        {
            uploads.Add(await StalledUpload.StartAsync(agent, FourGiB, chunks: 0));
        }

        var clock = Stopwatch.StartNew();
        List<StalledUpload> refused = [];
        while (refused.Count < 48 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.WhenAny(uploads.Except(refused).Select(u => u.Response));
            refused = uploads.Where(u => u.Response.IsCompleted).ToList();
        }

        TimeSpan refusedWithin = clock.Elapsed;
        List<Status> refusals = [];
        foreach (StalledUpload upload in refused)
        {
            refusals.Add((await Assert.ThrowsAsync<RpcException>(() => upload.Response)).Status);
        }

        Assert.Equal(48, refusals.Count);
        Assert.All(refusals, status => Assert.True(
            status.StatusCode == StatusCode.ResourceExhausted && status.Detail.Contains("MaxUploadMibInFlight", StringComparison.Ordinal), status.ToString()));

        Assert.True(refusedWithin < TimeSpan.FromSeconds(5), $"the refusals took {refusedWithin}, as long as the idle timeout: they were queued");
        Assert.Equal((2, 2 * FourGiB), (agent.Admission.Uploads, agent.Admission.Bytes));
        Assert.Equal((2, 2), agent.Leftovers());
        long grown = StandaloneAgent.ResidentBytes() - residentBefore;
        Assert.True(grown < 256L * Mib, $"resident memory grew by {grown / Mib} MiB across 50 stalled uploads");

        foreach (StalledUpload upload in uploads.Except(refused))
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => upload.Response);
            Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
            Assert.Contains("(UploadIdleTimeout)", error.Status.Detail);
        }

        uploads.ForEach(u => u.Dispose());
        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AnUploadPastTheConcurrentLimitIsRefusedAtOnceAndItsRoomReturnsWhenOneEnds()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { MaxConcurrentUploads = 3 });
        var stalled = new List<StalledUpload>();
        for (int i = 0; i < 3; i++)
        {
            stalled.Add(await StalledUpload.StartAsync(agent, 2 * Mib, chunks: 1));
        }

        await WaitForAsync(() => agent.Admission.Uploads == 3);
        using (StalledUpload fourth = await StalledUpload.StartAsync(agent, 2 * Mib, chunks: 0))
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => fourth.Response);
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Contains("this agent is at its limit of 3 concurrent uploads (MaxUploads)", error.Status.Detail);
        }

        // A client that gives up frees its upload's room, file and descriptor.
        stalled[0].Dispose();
        await WaitForAsync(() => agent.Admission.Uploads == 2);
        await agent.AssertStillServesAsync();

        stalled.ForEach(s => s.Dispose());
        await agent.AssertNothingLeftAsync();
    }

    [Fact]
    public async Task AStalledUploadEndsWithDeadlineExceededAndLeavesNothing()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { UploadIdleTimeout = TimeSpan.FromSeconds(1) });

        using StalledUpload afterAChunk = await StalledUpload.StartAsync(agent, 3 * Mib, chunks: 1);
        using var beforeTheHeader = new StalledUpload(agent.Client.UploadModel(deadline: StandaloneAgent.Deadline()));

        foreach (StalledUpload upload in new[] { afterAChunk, beforeTheHeader })
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => upload.Response);
            Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
            Assert.Equal("no message arrived for 1 s: this agent ends a streaming call idle for longer (UploadIdleTimeout)", error.Status.Detail);
        }

        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AnUploadThatKeepsSendingOutlastsTheIdleTimeout()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { UploadIdleTimeout = TimeSpan.FromSeconds(1.5) });
        byte[] bytes = UploadMessages.RandomBytes(6 * 64 * 1024);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.Client.UploadModel(deadline: StandaloneAgent.Deadline());
        await call.RequestStream.WriteAsync(UploadMessages.Header(bytes, bytes.Length));
        var clock = Stopwatch.StartNew();
        foreach (byte[] chunk in bytes.Chunk(64 * 1024))
        {
            await Task.Delay(300);
            await call.RequestStream.WriteAsync(UploadMessages.Chunk(chunk));
        }

        await call.RequestStream.CompleteAsync();
        UploadModelResponse response = await call;

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.5), "the upload as a whole took longer than the idle timeout");
        Assert.True(response.Stored);
        await agent.AssertNothingLeftAsync();
    }

    [Fact]
    public async Task ALargeUploadGoesToDiskAsItArrivesRatherThanIntoMemory()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o);
        const int Chunks = 256;
        byte[] chunk = UploadMessages.RandomBytes(Mib);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < Chunks; i++)
        {
            hash.AppendData(chunk);
        }

        string sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        // Live managed memory, not resident: chunks already written are garbage the GC returns when it likes, but an
        // agent that buffered the upload would still hold them.
        long liveBefore = GC.GetTotalMemory(forceFullCollection: true);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.Client.UploadModel(deadline: StandaloneAgent.Deadline());
        await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = (long)Chunks * Mib } });
        var held = new List<long>();
        for (int i = 0; i < Chunks; i++)
        {
            await call.RequestStream.WriteAsync(UploadMessages.Chunk(chunk));
            if (i % 64 == 63)
            {
                held.Add(GC.GetTotalMemory(forceFullCollection: true) - liveBefore);
            }
        }

        await call.RequestStream.CompleteAsync();
        UploadModelResponse response = await call;

        Assert.True(response.Stored);
        // At most the agent's 32 MiB stream window in flight, and a few chunks either side of it.
        Assert.All(held, bytes => Assert.True(bytes < 64L * Mib, $"{bytes / Mib} MiB held during a {Chunks} MiB upload: [{string.Join(", ", held.Select(b => b / Mib))}]"));
        await agent.AssertNothingLeftAsync();
    }

    [Fact]
    public async Task AnUploadShorterThanDeclaredIsInvalidArgumentAndLeavesNoFile()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o);
        byte[] bytes = UploadMessages.RandomBytes(Mib);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.Client.UploadModel(deadline: StandaloneAgent.Deadline());
        await call.RequestStream.WriteAsync(UploadMessages.Header(bytes, 3 * Mib));
        await call.RequestStream.WriteAsync(UploadMessages.Chunk(bytes));
        await call.RequestStream.CompleteAsync();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"upload ended after {Mib} of {3 * Mib} bytes", error.Status.Detail);
        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AnEndlessStreamIsCutOffAtTheFirstChunkPastItsDeclaredLength()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o);
        byte[] chunk = UploadMessages.RandomBytes(Mib);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.Client.UploadModel(deadline: StandaloneAgent.Deadline());
        await call.RequestStream.WriteAsync(UploadMessages.Header(chunk, 2 * Mib));
        int written = 0;
        try
        {
            // 1 GiB if nothing stopped it; the agent's 32 MiB stream window is all a client can get ahead of it.
            for (; written < 1024 && !call.ResponseAsync.IsCompleted; written++)
            {
                await call.RequestStream.WriteAsync(UploadMessages.Chunk(chunk));
            }
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The agent ended the call while the client was still writing.
        }

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"upload exceeds the announced length of {2 * Mib} bytes", error.Status.Detail);
        Assert.InRange(written, 3, 64);
        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task ADeclaredLengthPastMaxModelBytesIsRefusedBeforeAnyFileIsOpened()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o with { MaxModelBytes = 8L * Mib });
        using StalledUpload upload = await StalledUpload.StartAsync(agent, (8L * Mib) + 1, chunks: 0);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => upload.Response);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"model length must be between 1 and {8 * Mib} bytes, got {(8 * Mib) + 1} (the agent's MaxModelMib limit)", error.Status.Detail);
        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task Lz4ChunksThatClaimOrDecodeToMoreThanAChunkAreRefusedBeforeTheyAreDecompressed()
    {
        await using StandaloneAgent agent = await StandaloneAgent.StartAsync(o => o);
        // 64 MiB of zeros compress to about 256 KiB: a block that would expand 256-fold.
        byte[] bomb = Lz4Block.TryCompress(new byte[64 * Mib])!;
        long residentBefore = StandaloneAgent.ResidentBytes();

        (int RawLength, string Refusal)[] cases =
        [
            (int.MaxValue, $"chunk raw_length must be between 1 and {WireLimits.ModelChunkBytes} bytes, got {int.MaxValue}"),
            (WireLimits.ModelChunkBytes, $"chunk at byte 0: LZ4 data decoded to an error, expected {WireLimits.ModelChunkBytes} bytes"),
        ];
        foreach ((int rawLength, string refusal) in cases)
        {
            using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.Client.UploadModel(deadline: StandaloneAgent.Deadline());
            await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = new string('a', 64), Length = 8 * Mib, Compression = Compression.Lz4 } });
            await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { Compression = Compression.Lz4, RawLength = rawLength, Data = ByteString.CopyFrom(bomb) } });
            await call.RequestStream.CompleteAsync();

            RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal(refusal, error.Status.Detail);
        }

        long grown = StandaloneAgent.ResidentBytes() - residentBefore;
        Assert.True(grown < 32L * Mib, $"resident memory grew by {grown / Mib} MiB for two LZ4 bombs");
        await agent.AssertNothingLeftAsync();
        await agent.AssertStillServesAsync();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 250 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(condition(), "the agent did not get there within 5 s");
    }
}
