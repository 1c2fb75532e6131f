using System.Collections.Concurrent;
using AccelBroker.Tests.Logging;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Tests.Broker;

/// <summary>Keeps every log event, for tests that check what an operator is told; each also goes to the suite's secret scan.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Name, LogLevel Level, string Message)> _messages = new();

    /// <summary>Event name (empty when it has none), level and formatted message, in order.</summary>
    public IReadOnlyList<(string Name, LogLevel Level, string Message)> Messages => [.. _messages];

    public IEnumerable<(string Name, LogLevel Level)> Events => Messages.Select(m => (m.Name, m.Level));

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(_messages);

    public void Dispose()
    {
    }

    private sealed class RecordingLogger(ConcurrentQueue<(string Name, LogLevel Level, string Message)> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception);
            SecretScan.Suite.Inspect(eventId.Name ?? "recorded log", exception is null ? message : message + "\n" + exception);
            messages.Enqueue((eventId.Name ?? "", logLevel, message));
        }
    }
}
