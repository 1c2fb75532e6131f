namespace AccelBroker.Cli.LoadTesting;

/// <summary>The first failed request: its stage (from 1), the users running when it failed, its status, and when.</summary>
internal sealed record FirstFailure(int Stage, int Users, string Status, double AtS);
