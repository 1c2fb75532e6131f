using Microsoft.Extensions.Logging;

namespace AccelBroker.Tests.Logging;

/// <summary>
/// A log sink that writes nowhere and hands every message, at every level, to <see cref="SecretScan.Suite"/>: for test
/// hosts that otherwise discard their logs, so the suite still sees everything they would have told an operator.
/// </summary>
public sealed class ScanningLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new ScanningLogger(categoryName);

    public void Dispose()
    {
    }

    private sealed class ScanningLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            SecretScan.Suite.Inspect(category, exception is null ? formatter(state, exception) : formatter(state, exception) + "\n" + exception);
    }
}
