using AccelBroker.Hosting.Errors;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// Ends a streaming call whose client stops sending: each read must deliver a message within the idle timeout,
/// or the call fails with <c>DeadlineExceeded</c> naming the limit, so a stalled client holds nothing for long.
/// </summary>
internal sealed class StreamIdleWatch : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly string _limit;
    private readonly CancellationToken _call;
    private readonly CancellationTokenSource _idle;
    private readonly CancellationTokenSource _linked;

    /// <param name="limit">The option the refusal names: uploads and streaming runs have one each.</param>
    public StreamIdleWatch(TimeSpan timeout, TimeProvider time, CancellationToken call, string limit = "StreamIdleTimeout")
    {
        _timeout = timeout;
        _limit = limit;
        _call = call;
        _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(call, _idle.Token);
    }

    /// <summary>The next message, within the idle timeout; false at the end of the stream.</summary>
    public async ValueTask<bool> MoveNextAsync<T>(IAsyncStreamReader<T> stream)
    {
        // Restarts the timer: the limit is on silence between messages, not on the whole call.
        _idle.CancelAfter(_timeout);
        try
        {
            return await stream.MoveNext(_linked.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && _idle.IsCancellationRequested && !_call.IsCancellationRequested)
        {
            throw DomainException.Deadline(
                $"no message arrived for {_timeout.TotalSeconds:0.###} s: this agent ends a streaming call idle for longer ({_limit})");
        }
        finally
        {
            _idle.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _idle.Dispose();
    }
}
