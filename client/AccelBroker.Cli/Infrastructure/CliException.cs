namespace AccelBroker.Cli.Infrastructure;

/// <summary>A user-facing error: printed as one line on stderr, exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
