using Microsoft.Extensions.Logging;

namespace AccelBroker.Tests.Logging;

/// <summary>Adds the suite's secret scan to a test host's logging, at every level whatever the host's minimum.</summary>
public static class SuiteScanLogging
{
    public static ILoggingBuilder AddSuiteScan(this ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        return logging.AddProvider(new ScanningLoggerProvider()).AddFilter<ScanningLoggerProvider>(null, LogLevel.Trace);
    }
}
