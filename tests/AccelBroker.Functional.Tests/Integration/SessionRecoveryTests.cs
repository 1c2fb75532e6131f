using System.Diagnostics;
using System.Diagnostics.Metrics;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// A session survives its accelerator's move to another agent (the first agent stopped, then revoked, which moves its
/// slices): calls re-resolve, the models are loaded on the new agent with their options, and the application sees
/// the right outputs or, only where its deadline was too short, Unavailable or DeadlineExceeded.
/// </summary>
public sealed class SessionRecoveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan LongCall = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheNextRunAfterTheMoveReturnsTheRightOutputAndTheModelIsLoadedOnTheNewAgentWithItsOptions()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-a";
        Accelerator attached = await cluster.AttachAsync(host);
        await using AcceleratorSession session = await cluster.OpenSessionAsync(host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = LongCall });
        var options = new ModelLoadOptions { Alias = "kept-copy", WarmupInputs = [(TensorDataType.Float32, [1, 16])], Batching = new BatchingOptions(4, TimeSpan.FromMilliseconds(1)) };
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), options);
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        ModelOutput before = await session.RunAsync(model, [input]);
        using var recoveries = new RecoveryCount();

        await MoveAsync(cluster, attached);
        ModelOutput after = await session.RunAsync(model, [input]);

        AssertSame(before, after);
        Assert.NotEqual(attached.AgentAddress, session.Accelerator.AgentAddress);
        Assert.True(recoveries.Count >= 1, "the recovered call was not counted");
        (Accelerator now, ListModelsResponse listed) = await cluster.ListModelsAsync(host, attached.Ordinal);
        Assert.Equal(now.AgentAddress, session.Accelerator.AgentAddress);
        SliceModel reloaded = Assert.Single(listed.Models);
        Assert.Equal(model.Sha256, reloaded.Sha256);
        Assert.Equal("kept-copy", reloaded.Alias);
        Assert.Equal(Precision.Fp32, reloaded.Precision);
        Assert.Equal(1, reloaded.LoadCount);
    }

    [Fact]
    public async Task SixteenCallersAcrossTheMoveAllGetTheRightOutput()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-b";
        Accelerator attached = await cluster.AttachAsync(host);
        await using AcceleratorSession session = await cluster.OpenSessionAsync(host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = LongCall });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        ModelOutput expected = await session.RunAsync(model, [input]);

        int moved = 0;
        var started = new CountdownEvent(16);
        var limit = Stopwatch.StartNew();
        Task<int>[] callers = [.. Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int calls = 0;
            int afterMove = 0;
            // Bounded: at most 500 calls or 90 s each; every caller goes on for 5 calls past the move.
            for (; calls < 500 && afterMove < 5 && limit.Elapsed < TimeSpan.FromSeconds(90); calls++)
            {
                ModelOutput got = await session.RunAsync(model, [input]);
                AssertSame(expected, got);
                if (calls == 0)
                {
                    started.Signal();
                }

                if (Volatile.Read(ref moved) == 1)
                {
                    afterMove++;
                }
            }

            return afterMove;
        }))];

        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the callers did not start");
        await MoveAsync(cluster, attached);
        Volatile.Write(ref moved, 1);
        int[] afterMove = await Task.WhenAll(callers);

        Assert.All(afterMove, n => Assert.Equal(5, n));
        Assert.NotEqual(attached.AgentAddress, session.Accelerator.AgentAddress);
    }

    [Fact]
    public async Task ACallWhoseDeadlineEndsBeforeRecoveryFailsUnavailableAndTheNextCallSucceeds()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-c";
        Accelerator attached = await cluster.AttachAsync(host);
        await using AcceleratorSession session = await cluster.OpenSessionAsync(host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = TimeSpan.FromSeconds(3) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        ModelOutput before = await session.RunAsync(model, [input]);

        // The agent is gone, but the broker has not moved the accelerator yet: no call can recover in time.
        await cluster.StopAgentAsync(attached.AgentAddress);
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [input]));

        Assert.True(error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded, $"got {error.StatusCode}: {error.Status.Detail}");
        Assert.Contains(attached.AgentAddress, error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.AdminKey, error.Message, StringComparison.Ordinal);

        Assert.Equal(1, (await cluster.RevokeAsync(attached.AgentId)).SlicesMoved);
        AssertSame(before, await session.RunAsync(model, [input]));
    }

    [Fact]
    public async Task WithoutKeptBytesAModelLoadedFromBytesFailsClearlyWhileAFileModelRecovers()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-d";
        Accelerator attached = await cluster.AttachAsync(host);
        await using AcceleratorSession session = await cluster.OpenSessionAsync(
            host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = LongCall, KeepModelBytesForRecovery = false });
        RemoteModel fromBytes = await session.LoadModelAsync(await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt")));
        RemoteModel fromFile = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        Tensor mlpInput = Fixtures.Npy("demo_mlp.input0.npy");
        Tensor identityInput = Fixtures.Npy("identity.input0.npy");
        ModelOutput identityBefore = await session.RunAsync(fromFile, [identityInput]);

        await MoveAsync(cluster, attached);
        RpcException error = await Assert.ThrowsAnyAsync<RpcException>(() => session.RunAsync(fromBytes, [mlpInput]));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains(nameof(AcceleratorSessionOptions.KeepModelBytesForRecovery), error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("loaded from bytes", error.Status.Detail, StringComparison.Ordinal);
        AssertSame(identityBefore, await session.RunAsync(fromFile, [identityInput]));

        // Loaded again, it runs on the new agent.
        RemoteModel again = await session.LoadModelAsync(await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt")));
        Assert.Equal(fromBytes.Sha256, again.Sha256);
        Assert.Single(await session.RunAsync(again, [mlpInput]));
    }

    [Fact]
    public async Task AModelFileChangedOnDiskSinceItWasLoadedFailsClearlyRatherThanLoadOtherBytes()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-e";
        string copy = Path.Combine(Path.GetTempPath(), $"accel-recover-{Guid.NewGuid():N}.pt");
        File.Copy(Fixtures.Path("demo_mlp.pt"), copy);
        try
        {
            Accelerator attached = await cluster.AttachAsync(host);
            await using AcceleratorSession session = await cluster.OpenSessionAsync(host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = LongCall });
            RemoteModel model = await session.LoadModelAsync(copy);
            Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
            await session.RunAsync(model, [input]);

            File.Copy(Fixtures.Path("identity.pt"), copy, overwrite: true);
            await MoveAsync(cluster, attached);
            RpcException error = await Assert.ThrowsAnyAsync<RpcException>(() => session.RunAsync(model, [input]));

            Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
            Assert.Contains("has changed since it was loaded", error.Status.Detail, StringComparison.Ordinal);
            Assert.Contains(model.Sha256, error.Status.Detail, StringComparison.Ordinal);
            (_, ListModelsResponse listed) = await cluster.ListModelsAsync(host, attached.Ordinal);
            Assert.Empty(listed.Models);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public async Task ADetachedAcceleratorIsNotFoundRatherThanRetriedToTheDeadline()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(output);
        const string host = "recover-f";
        Accelerator attached = await cluster.AttachAsync(host);
        await using AcceleratorSession session = await cluster.OpenSessionAsync(host, attached.Ordinal, new AcceleratorSessionOptions { CallTimeout = LongCall });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        await cluster.Broker.DetachAsync(new DetachRequest { Host = host, Ordinal = attached.Ordinal }, deadline: TestCluster.Deadline());
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]));

        // Retried to the deadline, it would have been Unavailable.
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains(attached.AgentAddress, error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("broker", error.Status.Detail, StringComparison.Ordinal);
    }

    // The first agent dies, then is revoked, which moves its slices to the second (same host and ordinal).
    private static async Task MoveAsync(FailoverCluster cluster, Accelerator attached)
    {
        await cluster.StopAgentAsync(attached.AgentAddress);
        RevokeAgentResponse revoked = await cluster.RevokeAsync(attached.AgentId);
        Assert.Equal(1, revoked.SlicesMoved);
    }

    private static void AssertSame(ModelOutput expected, ModelOutput actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].DataType, actual[i].DataType);
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.True(expected[i].Data.Span.SequenceEqual(actual[i].Data.Span), $"output {i} differs from the output before the move");
        }
    }

    /// <summary>Recoveries counted by the client's meter while it lives (by any session of this process).</summary>
    private sealed class RecoveryCount : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public RecoveryCount()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AcceleratorTracing.MeterName && instrument.Name == "accel.client.recoveries")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
