using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Hosting.Errors;
using Grpc.Core;

namespace AccelBroker.Agent.Isolation.Worker;

/// <summary>
/// Reads the agent's commands and answers each. With one lane (one execution slot on the agent) commands run on
/// the reading thread, which saves a thread hop on every run; with more they run on the thread pool, at most one
/// per lane, since the agent's scheduler never grants more.
/// </summary>
internal sealed class WorkerServer
{
    // A worker with no command for this long gives its kept heap memory back.
    private static readonly TimeSpan IdleTrim = TimeSpan.FromSeconds(30);

    private readonly WorkerModels _models;
    private readonly int _lanes;
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private long _lastCommand = Environment.TickCount64;
    private int _trimmed;

    public WorkerServer(ComputeDevice device, int lanes, FrameReader reader, FrameWriter writer)
    {
        _models = new WorkerModels(device);
        _lanes = Math.Max(1, lanes);
        _reader = reader;
        _writer = writer;
    }

    public void Serve()
    {
        // The agent waits for this before its first command: start-up (libtorch, the device) is behind us.
        _writer.Write(new WorkerReply { Id = 0, Done = new Done() });
        using var idle = new Timer(_ => TrimIfIdle(), null, IdleTrim / 3, IdleTrim / 3);
        while (_reader.Read(WorkerRequest.Parser) is { } request)
        {
            Volatile.Write(ref _lastCommand, Environment.TickCount64);
            Volatile.Write(ref _trimmed, 0);
            if (_lanes == 1 || request.KindCase == WorkerRequest.KindOneofCase.Unload)
            {
                Handle(request);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(Handle, request, preferLocal: false);
            }
        }
    }

    private void Handle(WorkerRequest request)
    {
        WorkerReply reply;
        try
        {
            reply = request.KindCase switch
            {
                WorkerRequest.KindOneofCase.Load => new WorkerReply { Loaded = _models.Load(request.Load) },
                WorkerRequest.KindOneofCase.Run => new WorkerReply { Ran = _models.Run(request.Run) },
                WorkerRequest.KindOneofCase.Unload => Unloaded(request.Unload.Handle),
                _ => Failed(StatusCode.Internal, $"unknown worker command {request.KindCase}"),
            };
        }
        catch (DomainException ex)
        {
            reply = Failed(DomainErrorStatus.CodeOf(ex.Kind), ex.Message);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or KeyNotFoundException)
        {
            reply = Failed(StatusCode.Internal, ex.Message);
        }

        reply.Id = request.Id;
        if (request.Run is { AnswerInLane: true } run && _models.TryAnswerInLane(run.InputLane, reply))
        {
            return;
        }

        _writer.Write(reply);
    }

    private void TrimIfIdle()
    {
        if (Environment.TickCount64 - Volatile.Read(ref _lastCommand) >= IdleTrim.TotalMilliseconds && Interlocked.Exchange(ref _trimmed, 1) == 0)
        {
            LibC.TrimHeap();
        }
    }

    private WorkerReply Unloaded(int handle)
    {
        _models.Unload(handle);
        return new WorkerReply { Done = new Done() };
    }

    private static WorkerReply Failed(StatusCode status, string message) =>
        new() { Failure = new Failure { Status = (int)status, Message = message } };
}
