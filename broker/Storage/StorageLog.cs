using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Storage;

/// <summary>Log events of the broker's store. Event ids and names are a contract with operators: do not reuse or rename them.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(EventId = 70, EventName = "StoreOpened", Level = LogLevel.Information,
        Message = "Broker state kept in {Path} (SQLite, schema version {Version})")]
    public static partial void StoreOpened(ILogger logger, string path, int version);

    [LoggerMessage(EventId = 71, EventName = "LegacyFileImported", Level = LogLevel.Information,
        Message = "Imported {Count} {Kind} from {Path} into the broker store; the file is now {ImportedPath}")]
    public static partial void LegacyFileImported(ILogger logger, int count, string kind, string path, string importedPath);

    [LoggerMessage(EventId = 72, EventName = "LegacyFileNotRenamed", Level = LogLevel.Warning,
        Message = "Imported {Path} into the broker store but could not rename it ({Reason}); it is not read again")]
    public static partial void LegacyFileNotRenamed(ILogger logger, string path, string reason);
}
