using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// Keeps the <see cref="UsageBook"/> in the data directory: restores it when built (before the broker serves),
/// then saves it at most once per <see cref="BrokerOptions.UsageSaveInterval"/> while it changes, and once more
/// on shutdown. Reports arrive every few seconds from every agent and client; saving each would rewrite the file
/// far more often than a crash would cost. A file that cannot be used is set aside and the broker starts without
/// usage rather than not at all: usage is an account, not what the fleet needs to run.
/// </summary>
internal sealed class UsageSaver : BackgroundService
{
    // How often the loop asks whether a save is due; the interval itself bounds how often the file is written.
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    private readonly Lock _saveGate = new();
    private readonly UsageBook _book;
    private readonly UsageFile _file;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageSaver> _logger;
    private long _savedRevision;
    private DateTimeOffset _lastSaveAt;

    public UsageSaver(UsageBook book, UsageFile file, AttachmentBook attachments, BrokerOptions options, TimeProvider time, ILogger<UsageSaver> logger)
    {
        _book = book;
        _file = file;
        _interval = options.UsageSaveInterval;
        _time = time;
        _logger = logger;
        int dropped = Restore(attachments.All().Select(a => a.Id).ToHashSet(StringComparer.Ordinal));
        // Figures of accelerators detached before the restart must leave the file too, not only the book.
        _savedRevision = dropped > 0 ? -1 : book.Revision;
        _lastSaveAt = time.GetUtcNow();
    }

    /// <summary>Saves when the book changed and the last save is at least the interval old.</summary>
    /// <returns>Whether the file was written.</returns>
    public bool SaveIfDue()
    {
        lock (_saveGate)
        {
            return _time.GetUtcNow() - _lastSaveAt >= _interval && SaveChanges();
        }
    }

    /// <summary>Saves when the book changed since the last save, whenever that was.</summary>
    /// <returns>Whether the file was written.</returns>
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
            _file.Save(document);
        }
        catch (Exception ex)
        {
            // Whatever the cause (disk, permissions, a figure JSON cannot hold), never let it stop the broker.
            BrokerLog.UsageSaveFailed(_logger, _file.FilePath, _interval, ex);
            return false;
        }

        _savedRevision = revision;
        return true;
    }

    // Returns how many saved accelerators were dropped as no longer attached.
    private int Restore(IReadOnlySet<string> attached)
    {
        string path = Path.GetFullPath(_file.FilePath);
        UsageDocument? document;
        try
        {
            document = _file.Read();
        }
        catch (InvalidDataException ex)
        {
            try
            {
                BrokerLog.UsageFileUnusable(_logger, path, ex.Message, Path.GetFullPath(_file.SetAside(_time.GetUtcNow())));
            }
            catch (Exception moveFailure) when (moveFailure is IOException or UnauthorizedAccessException)
            {
                BrokerLog.UsageFileNotSetAside(_logger, path, ex.Message, moveFailure.Message);
            }

            return 0;
        }

        if (document is null)
        {
            return 0;
        }

        (int restored, int dropped) = _book.Restore(document, attached);
        BrokerLog.UsageLoaded(_logger, restored, path, dropped);
        return dropped;
    }
}
