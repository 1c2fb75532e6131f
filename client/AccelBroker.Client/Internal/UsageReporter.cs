using AccelBroker.Protocol.V1;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Sends a session's cumulative usage to the broker every interval and once more when the session closes.
/// Reports are cumulative, so a lost one does no harm: every failure is swallowed and never reaches a run.
/// </summary>
internal sealed class UsageReporter : IAsyncDisposable
{
    private static readonly TimeSpan FinalReportTimeout = TimeSpan.FromSeconds(2);

    private readonly Protocol.V1.Broker.BrokerClient _broker;
    private readonly SessionUsage _usage;
    private readonly string _acceleratorId;
    private readonly TimeSpan _callTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private long _reportedVersion;
    private int _disposed;

    public UsageReporter(Protocol.V1.Broker.BrokerClient broker, SessionUsage usage, string acceleratorId, TimeSpan interval, TimeSpan callTimeout)
    {
        _broker = broker;
        _usage = usage;
        _acceleratorId = acceleratorId;
        _callTimeout = callTimeout < interval ? callTimeout : interval;
        _loop = Task.Run(() => LoopAsync(interval, _stop.Token));
    }

    /// <summary>Random per session: the broker keeps each client's latest report and adds them up.</summary>
    public string ClientId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Stops the periodic reports and sends the last one, waiting at most about two seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop;
        using var timeout = new CancellationTokenSource(FinalReportTimeout);
        await ReportAsync(DateTime.UtcNow + FinalReportTimeout, timeout.Token);
        _stop.Dispose();
    }

    private async Task LoopAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await ReportAsync(DateTime.UtcNow + _callTimeout, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReportAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        long version = _usage.Version;
        if (version == Interlocked.Read(ref _reportedVersion))
        {
            return;
        }

        try
        {
            await _sending.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            var request = new ReportClientUsageRequest { AcceleratorId = _acceleratorId, ClientId = ClientId };
            request.Models.AddRange(_usage.ToProto());
            await _broker.ReportClientUsageAsync(request, deadline: deadline, cancellationToken: cancellationToken);
            Interlocked.Exchange(ref _reportedVersion, version);
        }
        catch (Exception)
        {
            // Usage is best effort and must never fail the session: the next report carries everything this one would have.
        }
        finally
        {
            _sending.Release();
        }
    }
}
