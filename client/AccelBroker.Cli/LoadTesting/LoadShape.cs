using System.Globalization;
using System.Text.Json;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// The users a load test runs over time: a list of stages whose durations are the times since the start at which each
/// ends (Locust's StagesShape). <see cref="TargetAt"/> is the pure function the scheduler follows.
/// </summary>
internal sealed class LoadShape
{
    private const int MaxStages = 1000;
    private const int MaxUsers = 10_000;
    private const double MaxDurationSeconds = 7 * 24 * 3600;

    private LoadShape(IReadOnlyList<LoadStage> stages)
    {
        Stages = stages;
    }

    public IReadOnlyList<LoadStage> Stages { get; }

    /// <summary>When the last stage ends.</summary>
    public TimeSpan Length => TimeSpan.FromSeconds(Stages[^1].Duration);

    /// <summary>
    /// Seed 003's shape: 10 users for 30 s (spawned 5 a second), 20 users from 30 s (1 a second, so reached at 40 s)
    /// held until 60 s, then 40 users (2 a second) held until 90 s, and the same 30 s ramp-and-hold by 20 users at a
    /// time up to 200 users, which ends at 330 s. The seed lists the first three stages and says the pattern repeats
    /// to 200; its results (first failures at 120, 140, 160, 180 users) read off stages 20 users apart.
    /// </summary>
    public static LoadShape Seed003 { get; } = new(
    [
        new(30, 10, 5),
        new(60, 20, 1),
        .. Enumerable.Range(0, 9).Select(i => new LoadStage(90 + (30 * i), 40 + (20 * i), 2)),
    ]);

    /// <summary>The stages of a <c>--stages</c> file, checked; every problem is one line naming the stage.</summary>
    public static LoadShape FromFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--stages file '{path}' cannot be read: {ex.Message}");
        }

        return Parse(text, $"--stages file '{path}'");
    }

    /// <summary>Stages from JSON text: a list of {"duration", "users", "spawn_rate"}.</summary>
    public static LoadShape Parse(string json, string source)
    {
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{source} is not JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new CliUsageException($"{source} must be a JSON list of {{\"duration\", \"users\", \"spawn_rate\"}}, got {root.ValueKind.ToString().ToLowerInvariant()}");
        }

        int count = root.GetArrayLength();
        if (count == 0)
        {
            throw new CliUsageException($"{source} has no stages");
        }

        if (count > MaxStages)
        {
            throw new CliUsageException(Invariant($"{source} has {count} stages; at most {MaxStages}"));
        }

        var stages = new List<LoadStage>(count);
        foreach (JsonElement element in root.EnumerateArray())
        {
            string where = Invariant($"{source}: stage {stages.Count + 1}");
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new CliUsageException($"{where} must be an object {{\"duration\", \"users\", \"spawn_rate\"}}");
            }

            double duration = Number(element, "duration", where);
            double users = Number(element, "users", where);
            double spawnRate = Number(element, "spawn_rate", where);
            if (duration is <= 0 or > MaxDurationSeconds)
            {
                throw new CliUsageException(Invariant($"{where}: duration must be more than 0 and at most {MaxDurationSeconds} seconds since the start, got {duration}"));
            }

            if (stages.Count > 0 && duration <= stages[^1].Duration)
            {
                throw new CliUsageException(Invariant($"{where}: durations must increase (each is the time since the start at which its stage ends), got {duration} after {stages[^1].Duration}"));
            }

            if (users < 0 || users != Math.Floor(users) || users > MaxUsers)
            {
                throw new CliUsageException(Invariant($"{where}: users must be a whole number from 0 to {MaxUsers}, got {users}"));
            }

            if (spawnRate is <= 0 or > MaxUsers)
            {
                throw new CliUsageException(Invariant($"{where}: spawn_rate must be more than 0 users per second (at most {MaxUsers}), got {spawnRate}"));
            }

            stages.Add(new LoadStage(duration, (int)users, spawnRate));
        }

        return new LoadShape(stages);
    }

    /// <summary>The stage that runs at <paramref name="elapsed"/> since the start, or -1 once the last has ended.</summary>
    public int StageAt(TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        for (int i = 0; i < Stages.Count; i++)
        {
            if (seconds < Stages[i].Duration)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Users to run and the rate to get there at <paramref name="elapsed"/>; <see langword="null"/> once the shape has ended.</summary>
    public LoadStage? TargetAt(TimeSpan elapsed) => StageAt(elapsed) is var stage and >= 0 ? Stages[stage] : null;

    /// <summary>When stage <paramref name="stage"/> starts: the previous one's end, or 0.</summary>
    public TimeSpan StartOf(int stage) => stage == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Stages[stage - 1].Duration);

    private static double Number(JsonElement stage, string name, string where) =>
        !stage.TryGetProperty(name, out JsonElement value)
            ? throw new CliUsageException($"{where} has no \"{name}\"")
            : value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && double.IsFinite(number)
                ? number
                : throw new CliUsageException($"{where}: \"{name}\" must be a number, got {value.GetRawText()}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
