using System.Threading.Channels;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution.Batching;

/// <summary>
/// Merges concurrent requests of one model whose inputs agree on all but the first dimension into one
/// execution, and splits the outputs back. One batch runs at a time, so requests arriving meanwhile queue
/// up and join the next one. A request waits at most <see cref="BatchingOptions.MaxDelay"/> for company.
/// When a batched run fails, or its outputs cannot be split by rows, each request is run alone: a caller
/// gets its own error or a correct answer, never a neighbour's. A model whose outputs cannot be split is
/// not batched again. A request whose call ends or whose deadline passes while it waits never joins a batch: the
/// cancelled one leaves at once, the expired one is answered DeadlineExceeded when the next batch forms.
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly BatchingOptions _options;
    private readonly Func<IReadOnlyList<WireTensor>, DateTime, Action?, CancellationToken, Task<ExecutionResult>> _execute;
    private readonly TimeProvider _time;
    private readonly Action<int>? _batchExecuted;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Pending> _carried = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private volatile bool _unsplittable;

    /// <param name="options">Batch size and delay.</param>
    /// <param name="execute">
    /// Runs inputs once: the model's forward pass, with the earliest deadline of the batch, telling the action once it
    /// holds its slot.
    /// </param>
    /// <param name="time">Clock for the delay.</param>
    /// <param name="batchExecuted">Told the item count of each execution, for metrics.</param>
    public DynamicBatcher(
        BatchingOptions options,
        Func<IReadOnlyList<WireTensor>, DateTime, Action?, CancellationToken, Task<ExecutionResult>> execute,
        TimeProvider time,
        Action<int>? batchExecuted = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDelay, TimeSpan.Zero);
        _options = options;
        _execute = execute;
        _time = time;
        _batchExecuted = batchExecuted;
        _worker = Task.Run(WorkAsync);
    }

    /// <param name="started">Told once the execution holding these inputs has its slot.</param>
    public Task<ExecutionResult> RunAsync(IReadOnlyList<WireTensor> inputs, DateTime deadline, Action? started, CancellationToken cancellationToken)
    {
        BatchKey? key = BatchKey.Of(inputs);
        if (key is null || key.Rows > _options.MaxBatchSize || _unsplittable || _stop.IsCancellationRequested)
        {
            return RunAloneAsync(inputs, deadline, started, cancellationToken);
        }

        var pending = new Pending(inputs, key, deadline, started, _time.GetTimestamp(), cancellationToken);
        if (!_queue.Writer.TryWrite(pending))
        {
            return RunAloneAsync(inputs, deadline, started, cancellationToken);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // The caller that gives up (or whose deadline the server enforces) is answered now, not when a batch forms.
            _ = cancellationToken.UnsafeRegister(static (state, token) => ((Pending)state!).Completion.TrySetCanceled(token), pending);
        }

        return pending.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _worker;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (Pending left in _carried.Concat(_queue.Reader.ReadAllAsync().ToBlockingEnumerable()))
        {
            left.Completion.TrySetCanceled();
        }

        _stop.Dispose();
    }

    private async Task<ExecutionResult> RunAloneAsync(IReadOnlyList<WireTensor> inputs, DateTime deadline, Action? started, CancellationToken cancellationToken)
    {
        ExecutionResult result = await _execute(inputs, deadline, started, cancellationToken);
        _batchExecuted?.Invoke((int)Math.Min(int.MaxValue, BatchKey.Of(inputs)?.Rows ?? 1));
        return result;
    }

    private async Task WorkAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            Pending first;
            if (_carried.Count > 0)
            {
                first = _carried[0];
                _carried.RemoveAt(0);
            }
            else if (!await _queue.Reader.WaitToReadAsync(stop) || !_queue.Reader.TryRead(out first!))
            {
                continue;
            }

            if (first.IsDropped(_time))
            {
                continue;
            }

            List<Pending> batch = await GatherAsync(first, stop);
            await ExecuteAsync(batch);
        }
    }

    private async Task<List<Pending>> GatherAsync(Pending first, CancellationToken stop)
    {
        var batch = new List<Pending> { first };
        long rows = first.Key.Rows;
        for (int i = 0; i < _carried.Count && rows < _options.MaxBatchSize; i++)
        {
            if (Fits(_carried[i]))
            {
                Add(_carried[i]);
                _carried.RemoveAt(i--);
            }
        }

        TimeSpan waitLeft = _options.MaxDelay - _time.GetElapsedTime(first.Enqueued);
        while (rows < _options.MaxBatchSize)
        {
            if (_queue.Reader.TryRead(out Pending? next))
            {
                if (next.IsDropped(_time))
                {
                    continue;
                }

                if (Fits(next))
                {
                    Add(next);
                }
                else
                {
                    _carried.Add(next);
                }

                continue;
            }

            waitLeft = _options.MaxDelay - _time.GetElapsedTime(first.Enqueued);
            if (waitLeft <= TimeSpan.Zero || !await WaitForMoreAsync(waitLeft, stop))
            {
                break;
            }
        }

        return batch;

        bool Fits(Pending candidate) => !candidate.IsDropped(_time) && candidate.Key.Equals(first.Key) && rows + candidate.Key.Rows <= _options.MaxBatchSize;

        void Add(Pending member)
        {
            batch.Add(member);
            rows += member.Key.Rows;
        }
    }

    private async Task<bool> WaitForMoreAsync(TimeSpan timeout, CancellationToken stop)
    {
        using var timer = new CancellationTokenSource(timeout, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, timer.Token);
        try
        {
            return await _queue.Reader.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task ExecuteAsync(List<Pending> batch)
    {
        // Members whose deadline passed during the delay are answered now: a batch never holds an expired one.
        batch.RemoveAll(p => p.IsDropped(_time));
        if (batch.Count == 0)
        {
            return;
        }

        if (batch.Count == 1)
        {
            await CompleteAloneAsync(batch[0]);
            return;
        }

        long started = _time.GetTimestamp();
        DateTime deadline = batch.Min(p => p.Deadline);
        ExecutionResult result;
        try
        {
            result = await _execute(BatchAssembly.Concatenate([.. batch.Select(p => p.Inputs)]), deadline, () => batch.ForEach(p => p.Started?.Invoke()), CancellationToken.None);
        }
        catch (Exception)
        {
            // Which request broke the batch is unknown: each one runs alone and gets its own answer.
            await CompleteEachAloneAsync(batch);
            return;
        }

        List<IReadOnlyList<WireTensor>>? split = BatchAssembly.TrySplit(result.Outputs, [.. batch.Select(p => p.Key.Rows)]);
        if (split is null)
        {
            _unsplittable = true;
            await CompleteEachAloneAsync(batch);
            return;
        }

        _batchExecuted?.Invoke((int)batch.Sum(p => p.Key.Rows));
        for (int i = 0; i < batch.Count; i++)
        {
            RunTiming timing = result.Timing.Clone();
            timing.QueueSeconds += Seconds(batch[i].Enqueued, started);
            batch[i].Completion.TrySetResult(new ExecutionResult(result.Kind, split[i], timing));
        }
    }

    private async Task CompleteEachAloneAsync(List<Pending> batch)
    {
        foreach (Pending pending in batch)
        {
            await CompleteAloneAsync(pending);
        }
    }

    private async Task CompleteAloneAsync(Pending pending)
    {
        long started = _time.GetTimestamp();
        try
        {
            ExecutionResult result = await RunAloneAsync(pending.Inputs, pending.Deadline, pending.Started, pending.CancellationToken);
            RunTiming timing = result.Timing.Clone();
            timing.QueueSeconds += Seconds(pending.Enqueued, started);
            pending.Completion.TrySetResult(result with { Timing = timing });
        }
        catch (OperationCanceledException) when (pending.CancellationToken.IsCancellationRequested)
        {
            pending.Completion.TrySetCanceled(pending.CancellationToken);
        }
        catch (Exception ex)
        {
            pending.Completion.TrySetException(ex);
        }
    }

    private double Seconds(long from, long to) => _time.GetElapsedTime(from, to).TotalSeconds;

    private sealed class Pending(IReadOnlyList<WireTensor> inputs, BatchKey key, DateTime deadline, Action? started, long enqueued, CancellationToken cancellationToken)
    {
        public IReadOnlyList<WireTensor> Inputs { get; } = inputs;

        public BatchKey Key { get; } = key;

        public DateTime Deadline { get; } = deadline;

        public Action? Started { get; } = started;

        public long Enqueued { get; } = enqueued;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<ExecutionResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The caller gave up, or its deadline passed, while it waited: it is not run.</summary>
        public bool IsDropped(TimeProvider time)
        {
            if (CancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(CancellationToken);
                return true;
            }

            if (Deadline != DateTime.MaxValue && time.GetUtcNow().UtcDateTime >= Deadline)
            {
                Completion.TrySetException(DomainException.Deadline("the call's deadline passed while it waited for its batch; the model was not run"));
                return true;
            }

            return Completion.Task.IsCompleted;
        }
    }
}
