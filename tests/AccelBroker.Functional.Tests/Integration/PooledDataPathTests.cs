using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// The data path's pooled buffers (received tensors, worker lanes, outputs, the client's results) under load: no
/// buffer is reused while anyone can still read it, so every output of many concurrent runs with different inputs
/// is its own input's, byte for byte, and outputs that are never disposed stay intact while later runs reuse memory.
/// </summary>
public sealed class PooledDataPathTests : IClassFixture<ClusterFixture>
{
    private const int Calls = 10_000;
    private const int Callers = 8;
    private readonly TestCluster _cluster;

    public PooledDataPathTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task TenThousandConcurrentRunsOfMixedSizesEachGetTheirOwnInputBack()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel identity = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        // Distinct contents per size: small (unary, not pooled), 602 KB (unary, pooled) and 8 MiB (streamed).
        Tensor[] small = [.. Enumerable.Range(0, 16).Select(i => Filled(i, [4, 8]))];
        Tensor[] medium = [.. Enumerable.Range(0, 8).Select(i => Filled(100 + i, [1, 3, 224, 224]))];
        Tensor[] large = [.. Enumerable.Range(0, 4).Select(i => Filled(200 + i, [2, 1024, 1024]))];
        var kept = new List<(Tensor Input, ModelOutput Output)>();
        int next = -1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        async Task CallerAsync()
        {
            int call;
            while ((call = Interlocked.Increment(ref next)) < Calls)
            {
                timeout.Token.ThrowIfCancellationRequested();
                Tensor input = (call % 100) switch
                {
                    0 => large[call / 100 % large.Length],
                    < 10 => medium[call % medium.Length],
                    _ => small[call % small.Length],
                };
                ModelOutput output = await session.RunAsync(identity, [input], timeout.Token);
                Assert.True(output[0].Data.Span.SequenceEqual(input.Data.Span), $"call {call}: the output is not its input ({input})");
                Assert.Equal(input.Shape, output[0].Shape);
                if (call % 250 == 0)
                {
                    // Never disposed: its memory must not go back to any pool.
                    lock (kept)
                    {
                        kept.Add((input, output));
                    }
                }
                else
                {
                    output.Dispose();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(CallerAsync)));

        Assert.Equal(Calls / 250, kept.Count);
        Assert.All(kept, k => Assert.True(k.Output[0].Data.Span.SequenceEqual(k.Input.Data.Span), $"a kept output of {k.Input} changed after later runs"));
    }

    [Fact]
    public async Task AStreamedRunWhoseOutputsAreViewsOfItsInputEqualsInProcessTorchSharp()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel aliasing = await session.LoadModelAsync(Fixtures.Path("aliasing.pt"));
        // 8 MiB: over the unary limit, so inputs and outputs travel in chunks and the input is a view of its lane.
        Tensor input = Filled(7, [1024, 2048]);

        using ModelOutput output = await session.RunAsync(aliasing, [input]);

        Tensor[] expected = LocalTorch.Run(Fixtures.Path("aliasing.pt"), null, input);
        Assert.Equal(OutputKind.Tuple, output.Kind);
        Assert.Equal(expected.Length, output.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Shape, output[i].Shape);
            Assert.True(expected[i].Data.Span.SequenceEqual(output[i].Data.Span), $"output {i} differs from in-process TorchSharp");
        }

        Assert.True(output[0].Data.Span.SequenceEqual(input.Data.Span));
    }

    [Fact]
    public async Task EchoesIntoACallersBufferReturnTheBytesSent()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        byte[] destination = new byte[9 * 1024 * 1024];
        foreach (int length in new[] { 64, 602_112, 9 * 1024 * 1024 })
        {
            byte[] payload = new byte[length];
            new Random(length).NextBytes(payload);

            int unary = length <= 602_112 ? await session.EchoIntoAsync(payload, destination) : length;
            if (length <= 602_112)
            {
                Assert.True(destination.AsSpan(0, unary).SequenceEqual(payload));
            }

            Array.Clear(destination);
            int streamed = await session.EchoStreamIntoAsync(payload, destination);
            Assert.Equal(length, streamed);
            Assert.True(destination.AsSpan(0, length).SequenceEqual(payload));
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.EchoStreamIntoAsync(new byte[10], new byte[9]));
    }

    private static Tensor Filled(int seed, long[] shape)
    {
        float[] values = new float[shape.Aggregate(1L, (a, b) => a * b)];
        var random = new Random(seed);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return Tensor.FromArray(values, shape);
    }
}
