using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Storage.Import;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccelBroker.Tests.Storage;

/// <summary>Opens broker.db in a directory as the broker does, import of older files included.</summary>
internal static class TestDatabase
{
    public static SqliteBrokerDatabase Open(string dataDir, ILogger? logger = null, TimeProvider? time = null)
    {
        logger ??= NullLogger.Instance;
        return SqliteBrokerDatabase.Open(dataDir, LegacyImport.Into(dataDir, time ?? TimeProvider.System, logger), logger);
    }

    public static string PathIn(string dataDir) => Path.Combine(dataDir, SqliteBrokerDatabase.FileName);
}
