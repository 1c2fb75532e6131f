using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>Batching merges only what may be merged, and every caller gets its own answer.</summary>
public sealed class DynamicBatcherTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<long> _executedRows = new();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _called = new(0);
    private int _calls;

    [Fact]
    public async Task RequestsQueuedBehindARunShareTheNextOneAndGetTheirOwnRows()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 100)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        Task<ExecutionResult>[] queued = [.. Enumerable.Range(0, 4).Select(i => batcher.RunAsync([Rows(1 + (i % 2), 10 * i)], DateTime.MaxValue, null, CancellationToken.None))];

        _gate.SetResult();
        ExecutionResult[] results = await Task.WhenAll(queued).WaitAsync(Wait);
        await blocker.WaitAsync(Wait);

        Assert.Equal([1L, 6L], _executedRows);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Values(Rows(1 + (i % 2), 10 * i)).Select(v => v * 2), Values(results[i].Outputs[0]));
            Assert.Equal(1 + (i % 2), results[i].Outputs[0].Shape[0]);
        }
    }

    [Fact]
    public async Task RequestsOfDifferentShapesAreNeverMixed()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        Task<ExecutionResult> four = batcher.RunAsync([Rows(1, 1, width: 4)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> five = batcher.RunAsync([Rows(1, 2, width: 5)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> fourAgain = batcher.RunAsync([Rows(1, 3, width: 4)], DateTime.MaxValue, null, CancellationToken.None);

        _gate.SetResult();
        await Task.WhenAll(blocker, four, five, fourAgain).WaitAsync(Wait);

        Assert.Equal([1L, 2L, 1L], _executedRows);
        Assert.Equal(5, (await five).Outputs[0].Shape[1]);
        Assert.Equal(Values(Rows(1, 3, width: 4)).Select(v => v * 2), Values((await fourAgain).Outputs[0]));
    }

    [Fact]
    public async Task ABatchNeverExceedsTheMaximumSize()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(4, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        Task<ExecutionResult>[] queued = [.. Enumerable.Range(0, 5).Select(i => batcher.RunAsync([Rows(2, i)], DateTime.MaxValue, null, CancellationToken.None))];

        _gate.SetResult();
        await Task.WhenAll(queued).WaitAsync(Wait);

        Assert.All(_executedRows, rows => Assert.InRange(rows, 1, 4));
        Assert.Equal(11, _executedRows.Sum());
    }

    [Fact]
    public async Task AFullBatchDoesNotWaitForTheDelay()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(2, TimeSpan.FromMinutes(10)), Doubled);
        _gate.SetResult();

        Task<ExecutionResult> a = batcher.RunAsync([Rows(1, 1)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> b = batcher.RunAsync([Rows(1, 2)], DateTime.MaxValue, null, CancellationToken.None);
        await Task.WhenAll(a, b).WaitAsync(Wait);

        Assert.Equal([2L], _executedRows);
    }

    [Fact]
    public async Task ARequestWaitsForCompanyUntilTheDelayPassesAndNoLonger()
    {
        var time = new TimerWatchingTimeProvider();
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.FromMilliseconds(100)), Doubled, time);
        _gate.SetResult();

        Task<ExecutionResult> first = batcher.RunAsync([Rows(1, 1)], DateTime.MaxValue, null, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(60));
        Task waitingForMore = time.NextTimerCreated();
        Task<ExecutionResult> second = batcher.RunAsync([Rows(2, 2)], DateTime.MaxValue, null, CancellationToken.None);

        // Within the delay the batch is not full: the batcher sets a timer on the clock to wait for more, and nothing runs.
        await waitingForMore.WaitAsync(Wait);
        Assert.Equal(0, Volatile.Read(ref _calls));

        // The first request's delay ends: both run now, together, although the batch has room for more.
        time.Advance(TimeSpan.FromMilliseconds(40));
        await Task.WhenAll(first, second).WaitAsync(Wait);
        Assert.Equal([3L], _executedRows);
    }

    [Fact]
    public async Task AFailingRequestFailsOnlyItsOwnCaller()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), RefusesNegatives);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        Task<ExecutionResult> good = batcher.RunAsync([Rows(1, 5)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> bad = batcher.RunAsync([Rows(1, -50)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> alsoGood = batcher.RunAsync([Rows(1, 7)], DateTime.MaxValue, null, CancellationToken.None);

        _gate.SetResult();

        DomainException error = await Assert.ThrowsAsync<DomainException>(() => bad.WaitAsync(Wait));
        Assert.Equal(DomainErrorKind.InvalidInput, error.Kind);
        Assert.Equal(Values(Rows(1, 5)), Values((await good.WaitAsync(Wait)).Outputs[0]));
        Assert.Equal(Values(Rows(1, 7)), Values((await alsoGood.WaitAsync(Wait)).Outputs[0]));
    }

    [Fact]
    public async Task AModelThatMixesSamplesRunsEachRequestAloneFromThenOn()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), SumOfAll);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        Task<ExecutionResult> a = batcher.RunAsync([Rows(1, 1)], DateTime.MaxValue, null, CancellationToken.None);
        Task<ExecutionResult> b = batcher.RunAsync([Rows(1, 2)], DateTime.MaxValue, null, CancellationToken.None);

        _gate.SetResult();
        await Task.WhenAll(a, b).WaitAsync(Wait);

        Assert.Equal(Values(Rows(1, 1)).Sum(), Values((await a).Outputs[0]).Single());
        Assert.Equal(Values(Rows(1, 2)).Sum(), Values((await b).Outputs[0]).Single());
        Assert.Equal([1L, 1L, 1L], _executedRows.Where(r => r == 1));
        Assert.Single(_executedRows, r => r == 2);

        _executedRows.Clear();
        await Task.WhenAll(
            batcher.RunAsync([Rows(1, 3)], DateTime.MaxValue, null, CancellationToken.None),
            batcher.RunAsync([Rows(1, 4)], DateTime.MaxValue, null, CancellationToken.None)).WaitAsync(Wait);
        Assert.Equal([1L, 1L], _executedRows);
    }

    [Fact]
    public async Task ACallerThatGivesUpWhileQueuedIsNotRun()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        using var cancel = new CancellationTokenSource();
        Task<ExecutionResult> abandoned = batcher.RunAsync([Rows(3, 1)], DateTime.MaxValue, null, cancel.Token);
        Task<ExecutionResult> kept = batcher.RunAsync([Rows(1, 2)], DateTime.MaxValue, null, CancellationToken.None);

        await cancel.CancelAsync();
        _gate.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Wait));
        await kept.WaitAsync(Wait);
        Assert.Equal([1L, 1L], _executedRows);
    }

    [Fact]
    public async Task ARequestWhoseDeadlinePassesWhileQueuedIsAnsweredDeadlineExceededAndNeverJoinsABatch()
    {
        var time = new FakeTimeProvider();
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled, time);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        int started = 0;
        Task<ExecutionResult> expired = batcher.RunAsync([Rows(3, 1)], time.GetUtcNow().UtcDateTime.AddSeconds(1), () => Interlocked.Increment(ref started), CancellationToken.None);
        Task<ExecutionResult> kept = batcher.RunAsync([Rows(2, 2)], time.GetUtcNow().UtcDateTime.AddSeconds(60), () => Interlocked.Increment(ref started), CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(2));
        _gate.SetResult();

        DomainException error = await Assert.ThrowsAsync<DomainException>(() => expired.WaitAsync(Wait));
        Assert.Equal(DomainErrorKind.DeadlineExceeded, error.Kind);
        Assert.Equal("the call's deadline passed while it waited for its batch; the model was not run", error.Message);
        await kept.WaitAsync(Wait);
        await blocker.WaitAsync(Wait);
        Assert.Equal([1L, 2L], _executedRows);
        Assert.Equal(1, Volatile.Read(ref started));
    }

    [Fact]
    public async Task ACallerThatGivesUpWhileQueuedIsAnsweredAtOnceWhileTheBatchAheadStillRuns()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        using var cancel = new CancellationTokenSource();
        Task<ExecutionResult> abandoned = batcher.RunAsync([Rows(3, 1)], DateTime.MaxValue, null, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Wait));
        Assert.False(blocker.IsCompleted, "the run ahead is still held at the gate");
        _gate.SetResult();
        await blocker.WaitAsync(Wait);
        Assert.Equal([1L], _executedRows);
    }

    [Fact]
    public async Task EveryMemberOfABatchIsToldOnceItsExecutionHasTheSlot()
    {
        await using DynamicBatcher batcher = Batcher(new BatchingOptions(8, TimeSpan.Zero), Doubled);
        Task<ExecutionResult> blocker = batcher.RunAsync([Rows(1, 0)], DateTime.MaxValue, null, CancellationToken.None);
        await WaitForCallsAsync(1);
        int[] started = new int[3];
        Task<ExecutionResult>[] queued = [.. Enumerable.Range(0, 3).Select(i => batcher.RunAsync([Rows(1, i)], DateTime.MaxValue, () => Interlocked.Increment(ref started[i]), CancellationToken.None))];

        _gate.SetResult();
        await Task.WhenAll([blocker, .. queued]).WaitAsync(Wait);

        Assert.Equal([1, 1, 1], started);
        Assert.Equal([1L, 3L], _executedRows);
    }

    private DynamicBatcher Batcher(BatchingOptions options, Func<IReadOnlyList<WireTensor>, ExecutionResult> model, TimeProvider? time = null) =>
        new(options, async (inputs, deadline, started, cancellationToken) =>
        {
            Interlocked.Increment(ref _calls);
            _called.Release();
            await _gate.Task;
            started?.Invoke();
            _executedRows.Enqueue(inputs[0].Shape[0]);
            return model(inputs);
        }, time ?? TimeProvider.System);

    private async Task WaitForCallsAsync(int calls)
    {
        for (int i = 0; i < calls; i++)
        {
            if (!await _called.WaitAsync(Wait))
            {
                break;
            }
        }

        Assert.True(Volatile.Read(ref _calls) >= calls, "the executor was not called");
    }

    private static ExecutionResult Doubled(IReadOnlyList<WireTensor> inputs) =>
        Result(inputs[0] with { Data = Floats(Values(inputs[0]).Select(v => v * 2)) });

    private static ExecutionResult RefusesNegatives(IReadOnlyList<WireTensor> inputs) =>
        Values(inputs[0]).Any(v => v < 0)
            ? throw DomainException.Invalid("negative input")
            : Result(inputs[0]);

    private static ExecutionResult SumOfAll(IReadOnlyList<WireTensor> inputs) =>
        Result(new WireTensor(DataType.Float32, [1], Floats([Values(inputs[0]).Sum()])));

    private static ExecutionResult Result(WireTensor output) => new(OutputKind.Tensor, [output], new RunTiming());

    private static WireTensor Rows(int rows, int seed, int width = 3) =>
        new(DataType.Float32, [rows, width], Floats(Enumerable.Range(0, rows * width).Select(i => (float)(seed + i))));

    private static byte[] Floats(IEnumerable<float> values) => MemoryMarshal.AsBytes<float>(values.ToArray()).ToArray();

    private static float[] Values(WireTensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.Data.Span).ToArray();

    /// <summary>A fake clock that says when a timer is created on it: the batcher creates one whenever it waits for company.</summary>
    private sealed class TimerWatchingTimeProvider : FakeTimeProvider
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the next timer is created.</summary>
        public Task NextTimerCreated() => Volatile.Read(ref _next).Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return timer;
        }
    }
}
