using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// Keeps the <see cref="UsageBook"/> in its <see cref="IUsageStore"/>: restores it when built (before the broker serves),
/// then saves it at most once per <see cref="BrokerOptions.UsageSaveInterval"/> while it changes, and once more
/// on shutdown. Reports arrive every few seconds from every agent and client; saving each would rewrite the store
/// far more often than a crash would cost. A failed save is logged and tried again: usage is an account, not what the
/// fleet needs to run.
/// </summary>
internal sealed class UsageSaver : BackgroundService
{
    // How often the loop asks whether a save is due; the interval itself bounds how often the file is written.
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    private readonly Lock _saveGate = new();
    private readonly UsageBook _book;
    private readonly IUsageStore _store;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageSaver> _logger;
    private long _savedRevision;
    private DateTimeOffset _lastSaveAt;

    public UsageSaver(UsageBook book, IUsageStore store, AttachmentBook attachments, BrokerOptions options, TimeProvider time, ILogger<UsageSaver> logger)
    {
        _book = book;
        _store = store;
        _interval = options.UsageSaveInterval;
        _time = time;
        _logger = logger;
        int dropped = Restore(attachments.All().Select(a => a.Id).ToHashSet(StringComparer.Ordinal));
        // Figures of accelerators detached before the restart must leave the store too, not only the book.
        _savedRevision = dropped > 0 ? -1 : book.Revision;
        _lastSaveAt = time.GetUtcNow();
    }

    /// <summary>Saves when the book changed and the last save is at least the interval old.</summary>
    /// <returns>Whether the store was written.</returns>
    public bool SaveIfDue()
    {
        lock (_saveGate)
        {
            return _time.GetUtcNow() - _lastSaveAt >= _interval && SaveChanges();
        }
    }

    /// <summary>Saves when the book changed since the last save, whenever that was.</summary>
    /// <returns>Whether the store was written.</returns>
    public bool SaveIfChanged()
    {
        lock (_saveGate)
        {
            return SaveChanges();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Whatever came in since the last save, so a clean restart loses nothing.
        SaveIfChanged();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval < MaxPoll ? _interval : MaxPoll, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                SaveIfDue();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Called under _saveGate.
    private bool SaveChanges()
    {
        if (_book.Revision == _savedRevision)
        {
            return false;
        }

        // A failed save is tried again one interval later, not on every poll.
        _lastSaveAt = _time.GetUtcNow();
        (UsageDocument document, long revision) = _book.Snapshot();
        try
        {
            _store.Write(document);
        }
        catch (Exception ex)
        {
            // Whatever the cause (disk, permissions, a figure JSON cannot hold), never let it stop the broker.
            BrokerLog.UsageSaveFailed(_logger, _store.Location, _interval, ex);
            return false;
        }

        _savedRevision = revision;
        return true;
    }

    // Returns how many saved accelerators were dropped as no longer attached.
    private int Restore(IReadOnlySet<string> attached)
    {
        UsageDocument? document = _store.Read();
        if (document is null)
        {
            return 0;
        }

        (int restored, int dropped) = _book.Restore(document, attached);
        BrokerLog.UsageLoaded(_logger, restored, _store.Location, dropped);
        return dropped;
    }
}
