namespace AccelBroker.Hosting.CommandLine;

/// <summary>What a command line asked for: help, an error, or settings (configuration keys and their values).</summary>
/// <param name="Values">The settings given, by configuration key; <see langword="null"/> with help or an error.</param>
/// <param name="ShowHelp">Help was asked for.</param>
/// <param name="Error">What is wrong with the command line, in one line; <see langword="null"/> when nothing is.</param>
public sealed record HostCommandLineResult(IReadOnlyDictionary<string, string>? Values, bool ShowHelp, string? Error);
