namespace AccelBroker.Cli.Infrastructure;

/// <summary>A bad argument found by a verb itself: printed as one line on stderr, exit code 2, nothing done.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
