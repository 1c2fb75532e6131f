using AccelBroker.Cli.Infrastructure;
using Grpc.Core;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// Collects every request's latency and status by the stage it completed in, the users seen in each stage and the
/// requests each model got. Users record from many threads at once: one lock, held only to append.
/// </summary>
internal sealed class LoadRecorder
{
    private readonly Lock _gate = new();
    private readonly LoadShape _shape;
    private readonly Stage[] _stages;
    private readonly long[] _perModel;
    private int _lastStage = -1;
    private FirstFailure? _firstFailure;

    public LoadRecorder(LoadShape shape, int models)
    {
        _shape = shape;
        _stages = shape.Stages.Select(_ => new Stage()).ToArray();
        _perModel = new long[models];
    }

    /// <summary>Notes the users running in <paramref name="stage"/> (every tick of the scheduler).</summary>
    public void ObserveUsers(int stage, int users)
    {
        lock (_gate)
        {
            Stage s = _stages[stage];
            s.UsersAtEnd = users;
            s.MaxUsers = Math.Max(s.MaxUsers, users);
            _lastStage = Math.Max(_lastStage, stage);
        }
    }

    /// <summary>One completed request; <paramref name="at"/> is when it completed, since the start.</summary>
    public void Record(TimeSpan latency, StatusCode status, int model, TimeSpan at, int users)
    {
        lock (_gate)
        {
            // A request still finishing after the last stage ended (or after an interruption) belongs to the stage it ran in.
            int stage = _shape.StageAt(at) is var found and >= 0 ? Math.Min(found, Math.Max(_lastStage, 0)) : Math.Max(_lastStage, 0);
            Stage s = _stages[stage];
            _perModel[model]++;
            if (status == StatusCode.OK)
            {
                s.Latencies.Add(latency.TotalMilliseconds);
                return;
            }

            string name = status.ToString();
            s.Failures[name] = s.Failures.GetValueOrDefault(name) + 1;
            _firstFailure ??= new FirstFailure(stage + 1, users, name, at.TotalSeconds);
        }
    }

    /// <summary>Requests and failures so far in <paramref name="stage"/>, for the live display.</summary>
    public (int Requests, int Failures) CountsOf(int stage)
    {
        lock (_gate)
        {
            Stage s = _stages[stage];
            int failures = s.Failures.Values.Sum();
            return (s.Latencies.Count + failures, failures);
        }
    }

    /// <summary>Failures in every stage so far.</summary>
    public int TotalFailures()
    {
        lock (_gate)
        {
            return _stages.Sum(s => s.Failures.Values.Sum());
        }
    }

    /// <summary>The stages that ran, up to <paramref name="elapsed"/> since the start.</summary>
    public (IReadOnlyList<StageResult> Stages, IReadOnlyList<long> PerModel, FirstFailure? FirstFailure) Results(TimeSpan elapsed)
    {
        lock (_gate)
        {
            var results = new List<StageResult>();
            for (int i = 0; i <= _lastStage; i++)
            {
                LoadStage planned = _shape.Stages[i];
                double start = _shape.StartOf(i).TotalSeconds;
                bool complete = elapsed.TotalSeconds >= planned.Duration;
                double seconds = Math.Max(0, Math.Min(planned.Duration, elapsed.TotalSeconds) - start);
                Stage s = _stages[i];
                int failures = s.Failures.Values.Sum();
                int requests = s.Latencies.Count + failures;
                results.Add(new StageResult(
                    i + 1,
                    planned.Duration,
                    planned.Users,
                    planned.SpawnRate,
                    s.UsersAtEnd,
                    s.MaxUsers,
                    seconds,
                    complete,
                    requests,
                    s.Latencies.Count,
                    new SortedDictionary<string, int>(s.Failures, StringComparer.Ordinal),
                    seconds > 0 ? requests / seconds : 0,
                    s.Latencies.Count > 0 ? LatencySummary.Of(s.Latencies) : null));
            }

            return (results, [.. _perModel], _firstFailure);
        }
    }

    private sealed class Stage
    {
        public List<double> Latencies { get; } = [];

        public Dictionary<string, int> Failures { get; } = new(StringComparer.Ordinal);

        public int UsersAtEnd { get; set; }

        public int MaxUsers { get; set; }
    }
}
