using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>A run's answer travels exactly one way, through the lane's doorbell or the pipe, and is the same either way.</summary>
public sealed class ReplyDoorbellTests
{
    private static SharedLane NewLane() =>
        SharedLane.Create($"accelbroker-test-bell-{Environment.ProcessId}-{Guid.NewGuid():N}", generation: 1, needed: ReplyDoorbell.HeaderBytes);

    private static WorkerReply Answer(ulong id) =>
        new() { Id = id, Ran = new RunResult { Kind = 1, ComputeSeconds = 0.25, OutputLane = new LaneRef { Lane = 3, Generation = 7 } } };

    [Fact]
    public void AWorkerRingsOnlyWhileTheAgentWatchesAndTheAgentTakesTheSameAnswer()
    {
        using SharedLane lane = NewLane();
        lane.Unlink();
        Assert.False(ReplyDoorbell.TryRing(lane, Answer(1)), "nobody watches an idle lane: the answer goes on the pipe");

        ReplyDoorbell.Arm(lane);
        Assert.False(ReplyDoorbell.IsRung(lane));
        Assert.True(ReplyDoorbell.TryRing(lane, Answer(2)));
        Assert.True(ReplyDoorbell.IsRung(lane));
        Assert.False(ReplyDoorbell.TryDisarm(lane), "a rung bell cannot be disarmed: its answer must be taken");
        Assert.Equal(Answer(2), ReplyDoorbell.Take(lane));
        Assert.False(ReplyDoorbell.TryRing(lane, Answer(3)), "taking the answer leaves the lane idle");

        ReplyDoorbell.Arm(lane);
        Assert.True(ReplyDoorbell.TryDisarm(lane));
        Assert.False(ReplyDoorbell.TryRing(lane, Answer(4)), "after the agent stopped watching, the worker uses the pipe");
    }

    [Fact]
    public void AnAnswerTooLargeForTheLaneHeadGoesOnThePipe()
    {
        using SharedLane lane = NewLane();
        lane.Unlink();
        WorkerReply large = Answer(5);
        large.Ran.Outputs.Add(new LaneTensor { Dtype = 1, Length = 4 });
        large.Ran.Outputs[0].Shape.AddRange(Enumerable.Repeat(1L, ReplyDoorbell.HeaderBytes));

        ReplyDoorbell.Arm(lane);
        Assert.False(ReplyDoorbell.TryRing(lane, large));
        Assert.True(ReplyDoorbell.TryDisarm(lane), "the bell stayed armed and unrung");
    }

    [Fact]
    public void ACorruptAnswerInTheLaneIsAnErrorNotAReply()
    {
        using SharedLane lane = NewLane();
        lane.Unlink();
        ReplyDoorbell.Arm(lane);
        Assert.True(ReplyDoorbell.TryRing(lane, Answer(6)));
        lane.Int32At(4) = ReplyDoorbell.HeaderBytes * 2;
        Assert.Throws<InvalidDataException>(() => ReplyDoorbell.Take(lane));

        ReplyDoorbell.Arm(lane);
        Assert.True(ReplyDoorbell.TryRing(lane, Answer(7)));
        lane.Span(64, 8).Fill(0xff);
        Assert.Throws<Google.Protobuf.InvalidProtocolBufferException>(() => ReplyDoorbell.Take(lane));
    }

    [Fact]
    public void WhenTheWorkerRingsAsTheAgentGivesUpExactlyOneOfThemWins()
    {
        using SharedLane lane = NewLane();
        lane.Unlink();
        for (int i = 1; i <= 2000; i++)
        {
            ReplyDoorbell.Arm(lane);
            bool rang = false;
            var worker = new Thread(() => rang = ReplyDoorbell.TryRing(lane, Answer((ulong)i)));
            worker.Start();
            bool disarmed = ReplyDoorbell.TryDisarm(lane);
            worker.Join();
            Assert.True(rang != disarmed, $"round {i}: rang {rang}, disarmed {disarmed}");
            if (rang)
            {
                Assert.Equal((ulong)i, ReplyDoorbell.Take(lane).Id);
            }
        }
    }

    [Fact]
    public void AWatchEndsWithTheAnswerFromTheLaneOrWithoutOneAndThenTheBellIsDisarmed()
    {
        using SharedLane lane = NewLane();
        lane.Unlink();
        var watch = new ReplyWatch(new WatchSlots(TimeSpan.FromSeconds(5), 2));
        var never = new TaskCompletionSource<WorkerReply>();

        ReplyDoorbell.Arm(lane);
        var worker = new Thread(() =>
        {
            Thread.Sleep(20);
            Assert.True(ReplyDoorbell.TryRing(lane, Answer(8)));
        });
        worker.Start();
        Assert.Equal(8UL, watch.Watch(lane, Stopwatch.GetTimestamp(), never.Task)?.Id);
        worker.Join();

        // Answered on the pipe: the watch stops and the worker can no longer ring.
        ReplyDoorbell.Arm(lane);
        Assert.Null(watch.Watch(lane, Stopwatch.GetTimestamp(), Task.FromResult(Answer(9))));
        Assert.False(ReplyDoorbell.TryRing(lane, Answer(9)));

        // Nobody answers within the watch.
        var brief = new ReplyWatch(new WatchSlots(TimeSpan.FromMilliseconds(5), 2));
        ReplyDoorbell.Arm(lane);
        Assert.Null(brief.Watch(lane, Stopwatch.GetTimestamp(), never.Task));
        Assert.False(ReplyDoorbell.TryRing(lane, Answer(10)));
    }

    [Fact]
    public void AModelWhoseRunsTakeLongerThanTheWatchIsNotWatched()
    {
        var watch = new ReplyWatch(new WatchSlots(TimeSpan.FromMilliseconds(1), 2));
        long slow = Stopwatch.Frequency / 100;
        Assert.True(watch.TryBegin(1), "a model with no runs yet is watched");
        watch.End();
        watch.Observe(1, slow);
        Assert.False(watch.TryBegin(1));
        Assert.True(watch.TryBegin(2), "other models keep their own estimate");
        watch.End();
        Assert.False(new ReplyWatch(new WatchSlots(TimeSpan.Zero, 2)).TryBegin(3), "a zero watch turns watching off");
        Assert.False(new ReplyWatch(new WatchSlots(TimeSpan.FromMilliseconds(1), 1)).TryBegin(3), "one core has none to spare for watching");

        var slots = new WatchSlots(TimeSpan.FromMilliseconds(1), 2);
        var first = new ReplyWatch(slots);
        Assert.True(first.TryBegin(1));
        Assert.False(new ReplyWatch(slots).TryBegin(1), "two cores: one watcher at a time across the agent's workers");
        first.End();
        Assert.True(new ReplyWatch(slots).TryBegin(1));
    }

    [Theory]
    [InlineData(2000, true)]
    [InlineData(0, false)]
    public async Task AWorkerAnswersARealRunThroughItsLaneWhenWatchedWithTheSameOutputs(int watchMilliseconds, bool inLane)
    {
        var launch = new WorkerLaunch("cpu", Threads: 1, Lanes: 1, HugePages: false, new WatchSlots(TimeSpan.FromMilliseconds(watchMilliseconds), 2));
        await using WorkerProcess worker = await WorkerProcess.StartAsync(launch, "doorbell-test", NullLogger.Instance);
        int handle = worker.NewHandle();
        await worker.LoadAsync(handle, Fixtures.Path("demo_mlp.pt"), Precision.Fp32, []);
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();

        for (int i = 0; i < 3; i++)
        {
            var wire = new WireTensor(DataType.Float32, [.. input.Shape], input.Data);
            ExecutionResult result = await worker.RunAsync(handle, [wire], nativeOutputDtype: false, queueSeconds: 0);
            float[] actual = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.Outputs[0].Data.Span).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++)
            {
                Assert.Equal(expected[j], actual[j], 1e-5f);
            }
        }

        Assert.Equal(inLane ? 3 : 0, worker.AnswersInLane);
    }
}
