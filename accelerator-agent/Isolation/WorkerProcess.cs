using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// One worker process and the agent's end of its pipes. Commands are answered in any order, matched by id; a
/// reader thread completes them, and a run's continuation carries on on that thread (one hop fewer per run).
/// When the process ends, every command it owed fails with <see cref="WorkerCrashedException"/>.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int ErrorLinesKept = 40;

    private readonly Process _process;
    private readonly FrameWriter _writer;
    private readonly FrameReader _reader;
    // How long a stopping worker may take to finish what it was asked before it stopped.
    private static readonly TimeSpan ReleaseGrace = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<ulong, Pending> _pending = new();
    private readonly Queue<string> _errors = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AgentLanes _lanes;
    private readonly ReplyWatch _watch;
    private readonly ILogger _logger;
    private long _nextId;
    private long _answersInLane;
    private int _nextHandle;
    private volatile bool _stopping;
    private Action<WorkerProcess, string>? _ended;

    private WorkerProcess(Process process, string owner, ILogger logger, WatchSlots replyWatch)
    {
        _watch = new ReplyWatch(replyWatch);
        _process = process;
        ProcessId = process.Id;
        Owner = owner;
        _logger = logger;
        _writer = new FrameWriter(process.StandardInput.BaseStream);
        _reader = new FrameReader(process.StandardOutput.BaseStream);
        _lanes = new AgentLanes($"accelbroker-agent-{Environment.ProcessId}-{process.Id}", $"accelbroker-worker-{process.Id}");
    }

    /// <summary>The slice (or tenant) this worker executes for.</summary>
    public string Owner { get; }

    /// <summary>The worker's pid, also after it ended.</summary>
    public int ProcessId { get; }

    public bool IsAlive => !_exited.Task.IsCompleted;

    /// <summary>Whether the agent asked it to stop (then its end is no crash).</summary>
    public bool Stopped => _stopping;

    /// <summary>Resident memory once started, before any model: what an empty worker holds.</summary>
    public long BaselineBytes { get; private set; }

    /// <summary>How many runs were answered through their lane's doorbell rather than the pipe.</summary>
    public long AnswersInLane => Interlocked.Read(ref _answersInLane);

    /// <summary>Completes with how the process ended.</summary>
    public Task<string> Exited => _exited.Task;

    /// <summary>How long a worker may take to have libtorch and its device up.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts a worker and waits until libtorch and its device are up in it.</summary>
    /// <param name="ended">Told, before any command it owed fails, that the process ended and how: so whoever
    /// sees a command fail sees the end already counted.</param>
    public static async Task<WorkerProcess> StartAsync(WorkerLaunch launch, string owner, ILogger logger, Action<WorkerProcess, string>? ended = null)
    {
        long started = Stopwatch.GetTimestamp();
        Process process = Process.Start(launch.StartInfo()) ?? throw new InvalidOperationException("the worker process did not start");
        var worker = new WorkerProcess(process, owner, logger, launch.ReplyWatch) { _ended = ended };
        process.ErrorDataReceived += (_, line) => worker.OnError(line.Data);
        process.BeginErrorReadLine();
        new Thread(worker.ReadReplies) { IsBackground = true, Name = $"worker {process.Id}" }.Start();
        try
        {
            await worker._ready.Task.WaitAsync(StartTimeout);
        }
        catch (Exception ex)
        {
            string reason = ex is TimeoutException ? $"it did not start within {StartTimeout.TotalSeconds:0} s" : ex.Message;
            await worker.DisposeAsync();
            throw DomainException.Unavailable($"the worker process for '{owner}' could not start: {reason}");
        }

        worker.BaselineBytes = worker.ResidentBytes() ?? 0;
        AgentLog.WorkerStarted(logger, owner, process.Id, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return worker;
    }

    /// <summary>A handle for a model on this worker, unique for its life.</summary>
    public int NewHandle() => Interlocked.Increment(ref _nextHandle);

    public async Task<LoadResult> LoadAsync(int handle, string path, Precision precision, IEnumerable<TensorSpec> warmup)
    {
        var command = new LoadCommand { Handle = handle, Path = path, Precision = (int)precision };
        foreach (TensorSpec spec in warmup)
        {
            var shape = new ShapeSpec { Dtype = (int)spec.Dtype };
            shape.Shape.AddRange(spec.Shape);
            command.Warmup.Add(shape);
        }

        WorkerReply reply = await SendAsync(new WorkerRequest { Load = command });
        return reply.Loaded;
    }

    public async Task<ExecutionResult> RunAsync(int handle, IReadOnlyList<WireTensor> inputs, bool nativeOutputDtype, double queueSeconds)
    {
        long started = Stopwatch.GetTimestamp();
        AgentLanes.Lane lane = _lanes.Take();
        try
        {
            var command = new RunCommand { Handle = handle, NativeOutputDtype = nativeOutputDtype };
            command.InputLane = lane.WriteInputs(inputs, command.Inputs);
            long sent = Stopwatch.GetTimestamp();
            double written = Stopwatch.GetElapsedTime(started, sent).TotalSeconds;
            WorkerReply reply;
            try
            {
                reply = await SendRunAsync(command, lane.Input);
            }
            finally
            {
                lane.Answered();
            }

            long reading = Stopwatch.GetTimestamp();
            _watch.Observe(handle, reading - sent);
            RunResult ran = reply.Ran;
            WireTensor[] outputs;
            var buffers = new PooledBuffers(PayloadPool.Shared);
            try
            {
                outputs = lane.ReadOutputs(ran.OutputLane, ran.Outputs, buffers);
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException or OverflowException or IOException)
            {
                buffers.Release();
                throw Untrusted(ex);
            }

            var timing = new RunTiming
            {
                QueueSeconds = queueSeconds,
                // The copies into and out of shared memory count as decode and encode, like the worker's own.
                DecodeSeconds = written + ran.DecodeSeconds,
                ComputeSeconds = ran.ComputeSeconds,
                EncodeSeconds = ran.EncodeSeconds + Stopwatch.GetElapsedTime(reading).TotalSeconds,
            };
            return new ExecutionResult((OutputKind)ran.Kind, outputs, timing, buffers);
        }
        finally
        {
            _lanes.Return(lane);
        }
    }

    /// <summary>Frees a model in the worker, without waiting; nothing to do once the worker is gone.</summary>
    public void Unload(int handle)
    {
        _watch.Forget(handle);
        if (IsAlive)
        {
            _ = SendAsync(new WorkerRequest { Unload = new UnloadCommand { Handle = handle } })
                .ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    /// <summary>Resident memory of the worker process (Linux /proc), or null once it is gone.</summary>
    public long? ResidentBytes() => ProcStatus.Read(ProcessId, "VmRSS:");

    /// <summary>The most memory the worker process has held (VmHWM), or null once it is gone.</summary>
    public long? PeakResidentBytes() => ProcStatus.Read(ProcessId, "VmHWM:");

    // Watched when the model answers quickly: the answer is then taken from the lane by this thread, not woken
    // up for by the reader thread.
    private Task<WorkerReply> SendRunAsync(RunCommand command, SharedLane lane)
    {
        if (!_watch.TryBegin(command.Handle))
        {
            return SendAsync(new WorkerRequest { Run = command });
        }

        try
        {
            ReplyDoorbell.Arm(lane);
            command.AnswerInLane = true;
            var request = new WorkerRequest { Run = command };
            Task<WorkerReply> answered = SendAsync(request);
            WorkerReply? reply;
            try
            {
                reply = _watch.Watch(lane, Stopwatch.GetTimestamp(), answered);
            }
            catch (Exception ex) when (ex is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
            {
                throw Untrusted(ex);
            }

            if (reply is null || !_pending.TryRemove(request.Id, out _))
            {
                // On the pipe; or the worker ended after it rang, and the command already failed with the crash.
                return answered;
            }

            if (reply.Id != request.Id)
            {
                throw Untrusted(new InvalidDataException($"the answer in shared memory is for command {reply.Id}, not {request.Id}"));
            }

            Interlocked.Increment(ref _answersInLane);
            return reply.KindCase == WorkerReply.KindOneofCase.Failure
                ? Task.FromException<WorkerReply>(FailureOf(reply))
                : Task.FromResult(reply);
        }
        finally
        {
            _watch.End();
        }
    }

    private DomainException Untrusted(Exception ex)
    {
        // A worker runs tenant code: one that answers nonsense is not trusted with another command.
        AgentLog.WorkerStreamBroken(_logger, Owner, ProcessId, ex.Message);
        TryKill();
        return DomainException.Internal($"the slice's worker process gave an invalid result ({ex.Message}); it was stopped");
    }

    // The worker's reply carries a status code; a code no domain kind stands for is the worker's fault: Internal.
    private static DomainException FailureOf(WorkerReply reply) =>
        new(DomainErrorStatus.KindOf((StatusCode)reply.Failure.Status), reply.Failure.Message);

    private Task<WorkerReply> SendAsync(WorkerRequest request)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        request.Id = id;
        // Completed inline on the reader thread: the run's continuation needs no thread-pool hop.
        var reply = new TaskCompletionSource<WorkerReply>();
        if (_stopping)
        {
            // Its slice was released (detached or moved) after this call was admitted: the client resolves again.
            reply.SetException(Released());
            return reply.Task;
        }

        _pending[id] = new Pending(reply, Executes: request.KindCase != WorkerRequest.KindOneofCase.Unload);
        if (!IsAlive)
        {
            Fail(id, Exited.Result);
            return reply.Task;
        }

        try
        {
            _writer.Write(request);
        }
        catch (IOException)
        {
            // The pipe broke: the reader sees the end and fails this command with the crash.
        }
        catch (ObjectDisposedException)
        {
            // The worker ended and its pipe is closed already (it ends itself when the agent looked dead, e.g. after the
            // agent was frozen): the reader has finished, so nothing else would fail this command.
            if (_stopping && _pending.TryRemove(id, out Pending? pending))
            {
                pending.Reply.TrySetException(Released());
            }
            else
            {
                Fail(id, Exited.IsCompleted ? Exited.Result : "its input pipe is closed");
            }
        }

        return reply.Task;
    }

    private void ReadReplies()
    {
        try
        {
            while (_reader.Read(WorkerReply.Parser) is { } reply)
            {
                if (reply.Id == 0)
                {
                    _ready.TrySetResult();
                    continue;
                }

                if (_pending.TryRemove(reply.Id, out Pending? pending))
                {
                    TaskCompletionSource<WorkerReply> waiter = pending.Reply;
                    if (reply.KindCase == WorkerReply.KindOneofCase.Failure)
                    {
                        waiter.TrySetException(FailureOf(reply));
                    }
                    else
                    {
                        waiter.TrySetResult(reply);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            AgentLog.WorkerStreamBroken(_logger, Owner, ProcessId, ex.Message);
            TryKill();
        }

        Ended();
    }

    private void Ended()
    {
        _process.WaitForExit(5000);
        int? code = _process.HasExited ? _process.ExitCode : null;
        string crash;
        lock (_errors)
        {
            crash = CrashDescription.Of(code, [.. _errors]);
        }

        // Told before Exited completes, so whoever awaits the exit finds the end already counted and handled.
        _ended?.Invoke(this, crash);
        _exited.TrySetResult(crash);
        _ready.TrySetException(new InvalidOperationException($"it ended during start-up ({crash}): {LastErrors()}"));
        if (!_stopping)
        {
            AgentLog.WorkerCrashed(_logger, Owner, ProcessId, crash, _pending.Count, LastErrors());
        }

        // An unload frees memory; only a load or a run executes tenant code that could have crashed the worker.
        bool alone = _pending.Values.Count(p => p.Executes) == 1;
        foreach (ulong id in _pending.Keys)
        {
            Fail(id, crash, alone);
        }
    }

    private void Fail(ulong id, string crash, bool alone = false)
    {
        if (_pending.TryRemove(id, out Pending? pending))
        {
            pending.Reply.TrySetException(new WorkerCrashedException(crash, alone && pending.Executes));
        }
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_errors)
        {
            _errors.Enqueue(line);
            while (_errors.Count > ErrorLinesKept)
            {
                _errors.Dequeue();
            }
        }

        AgentLog.WorkerOutput(_logger, Owner, ProcessId, line);
    }

    private string LastErrors()
    {
        lock (_errors)
        {
            return string.Join(" | ", _errors.TakeLast(6));
        }
    }

    /// <summary>Stops a worker that holds on to a command for too long; what it owed fails as a crash.</summary>
    public void Kill() => TryKill();

    private void TryKill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>
    /// Lets the runs and loads already sent finish (at most <see cref="ReleaseGrace"/>: a released slice's last calls are
    /// answered, not failed, so a drain fails no request), then closes the worker's input (it exits at the end of its
    /// stream), and kills it if it lingers.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        for (long started = Stopwatch.GetTimestamp(); !_pending.IsEmpty && IsAlive && Stopwatch.GetElapsedTime(started) < ReleaseGrace;)
        {
            await Task.Delay(10);
        }

        _stopping = true;
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            TryKill();
            await _exited.Task;
        }

        _lanes.Dispose();
        _process.Dispose();
    }

    private static DomainException Released() =>
        DomainException.Precondition("the slice was released from this agent (detached, or moved to another agent) while the call waited; resolve the accelerator again");

    private sealed record Pending(TaskCompletionSource<WorkerReply> Reply, bool Executes);
}
