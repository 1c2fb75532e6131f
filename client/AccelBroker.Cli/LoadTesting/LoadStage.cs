namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// One stage of a load shape, as Locust's stages shape writes it: <paramref name="Duration"/> is the time since the
/// start (in seconds) at which the stage ends, not its length; during the stage users are spawned or stopped at
/// <paramref name="SpawnRate"/> per second until <paramref name="Users"/> run.
/// </summary>
internal sealed record LoadStage(double Duration, int Users, double SpawnRate);
