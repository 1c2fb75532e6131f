using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.LoadTesting;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary>
/// The load test's users and summary against a fake target that refuses (ResourceExhausted, as a slice past its queue
/// bound does) whenever more than <see cref="QueueLimitTarget.Limit"/> requests are in flight at once.
/// </summary>
public sealed class LoadTestRunTests
{
    // 1, 2, 3 then 4 users, spawned at once, 0.8 s each.
    private static readonly LoadShape Shape = LoadShape.Parse(
        """[{"duration": 0.8, "users": 1, "spawn_rate": 100}, {"duration": 1.6, "users": 2, "spawn_rate": 100}, {"duration": 2.4, "users": 3, "spawn_rate": 100}, {"duration": 3.2, "users": 4, "spawn_rate": 100}]""", "test");

    [Fact]
    public async Task MaxUsersBeforeTheFirstFailureIsTheLastStageThatStayedWithinTheLimit()
    {
        var target = new QueueLimitTarget(models: 3);

        LoadTestResult result = await new LoadTestRun(Shape, target, seed: 3, thinkTime: null, TimeProvider.System).RunAsync(null, CancellationToken.None);
        LoadTestSummary summary = LoadTestSummary.Of(result.Stages, result.FirstFailure, p95SloMs: null);

        Assert.False(result.Interrupted);
        Assert.Equal([1, 2, 3, 4], result.Stages.Select(s => s.TargetUsers));
        Assert.Equal([1, 2, 3, 4], result.Stages.Select(s => s.MaxUsers));
        Assert.Equal([0, 0], result.Stages.Take(2).Select(s => s.FailureCount));
        Assert.All(result.Stages.Skip(2), s => Assert.True(s.Failures.GetValueOrDefault("ResourceExhausted") > 0, $"stage {s.Stage}: {string.Join(", ", s.Failures)}"));
        Assert.Equal(2, summary.MaxUsersBeforeFirstFailure);
        Assert.Equal(3, summary.FirstStageWithFailure);
        FirstFailure first = Assert.IsType<FirstFailure>(summary.FirstFailure);
        Assert.Equal(("ResourceExhausted", 3), (first.Status, first.Stage));
        Assert.True(first.Users > QueueLimitTarget.Limit, $"{first.Users} users");
        Assert.Equal(result.Stages.Take(2).Max(s => s.RequestsPerSecond), summary.MaxRequestsPerSecondWithoutError);
        Assert.Contains(summary.StageOfMaxRequestsPerSecond, new int?[] { 1, 2 });
        // Every model was chosen, and every completed request is counted once, in a stage and against its model.
        Assert.All(result.RequestsPerModel, n => Assert.True(n > 0));
        Assert.Equal(result.Stages.Sum(s => s.Requests), result.RequestsPerModel.Sum());
        Assert.Equal(target.Completed, result.RequestsPerModel.Sum());
    }

    [Fact]
    public async Task CancellingStopsEveryUserAndKeepsWhatWasMeasured()
    {
        var target = new QueueLimitTarget(models: 2);
        using var cancel = new CancellationTokenSource();
        var run = new LoadTestRun(LoadShape.Parse("""[{"duration": 600, "users": 2, "spawn_rate": 100}]""", "test"), target, seed: 3, thinkTime: null, TimeProvider.System);

        LoadTestResult result = await run.RunAsync(
            p =>
            {
                if (target.Completed >= 10)
                {
                    cancel.Cancel();
                }
            },
            cancel.Token).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Interrupted);
        StageResult stage = Assert.Single(result.Stages);
        Assert.False(stage.Complete);
        Assert.True(stage.Requests >= 10);
        Assert.True(stage.Seconds < 600);
        Assert.Equal(0, stage.FailureCount);
        Assert.Equal(0, target.InFlight);
    }

    [Fact]
    public void TheSloFiguresComeFromTheFirstStageWhoseP95WasOverIt()
    {
        StageResult[] stages =
        [
            Stage(1, users: 10, rps: 50, p95: 5),
            Stage(2, users: 20, rps: 90, p95: 8),
            Stage(3, users: 40, rps: 120, p95: 30),
            Stage(4, users: 60, rps: 110, p95: 60, failures: 2),
            Stage(5, users: 40, rps: 100, p95: 9),
        ];

        LoadTestSummary summary = LoadTestSummary.Of(stages, new FirstFailure(4, 60, "DeadlineExceeded", 100), p95SloMs: 20);

        Assert.Equal(120, summary.MaxRequestsPerSecondWithoutError);
        Assert.Equal(3, summary.StageOfMaxRequestsPerSecond);
        Assert.Equal(40, summary.MaxUsersBeforeFirstFailure);
        Assert.Equal(4, summary.FirstStageWithFailure);
        Assert.Equal(20, summary.MaxUsersBeforeP95OverSlo);
        Assert.Equal(3, summary.FirstStageOverSlo);
    }

    [Fact]
    public void WithoutFailuresTheSummaryGivesTheMostUsersThatRan()
    {
        LoadTestSummary summary = LoadTestSummary.Of([Stage(1, users: 10, rps: 50, p95: 5), Stage(2, users: 20, rps: 40, p95: 5)], null, p95SloMs: 100);

        Assert.Equal((20, (int?)null, (FirstFailure?)null), (summary.MaxUsersBeforeFirstFailure, summary.FirstStageWithFailure, summary.FirstFailure));
        Assert.Equal((20, (int?)null), (summary.MaxUsersBeforeP95OverSlo, summary.FirstStageOverSlo));
        Assert.Equal(50, summary.MaxRequestsPerSecondWithoutError);
    }

    [Fact]
    public void WhenTheFirstStageFailsNoUsersRanWithoutFailureAndNoStageGivesAThroughput()
    {
        LoadTestSummary summary = LoadTestSummary.Of([Stage(1, users: 10, rps: 50, p95: 5, failures: 1)], new FirstFailure(1, 10, "Unavailable", 1), p95SloMs: null);

        Assert.Equal(0, summary.MaxUsersBeforeFirstFailure);
        Assert.Null(summary.MaxRequestsPerSecondWithoutError);
        Assert.Null(summary.MaxUsersBeforeP95OverSlo);
    }

    [Theory]
    [InlineData("100", 100, 100)]
    [InlineData("50-200", 50, 200)]
    [InlineData("0", 0, 0)]
    public void AThinkTimeIsFixedOrARange(string text, double min, double max)
    {
        Assert.Equal(new ThinkTime(min, max), ThinkTime.Parse(text));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("200-50")]
    [InlineData("-5")]
    [InlineData("1-2-3")]
    public void ABadThinkTimeIsOneClearError(string text)
    {
        CliUsageException error = Assert.Throws<CliUsageException>(() => ThinkTime.Parse(text));

        Assert.Equal($"--think-time must be milliseconds (e.g. 100) or a range MIN-MAX (e.g. 50-200), at most 3600000, got '{text}'", error.Message);
    }

    private static StageResult Stage(int stage, int users, double rps, double p95, int failures = 0) =>
        new(stage, stage * 30, users, 2, users, users, 30, true, (int)(rps * 30), (int)(rps * 30) - failures,
            failures == 0 ? new Dictionary<string, int>() : new Dictionary<string, int> { ["DeadlineExceeded"] = failures }, rps,
            new LatencySummary(10, p95 / 2, p95 / 2, p95, p95, p95, 1, p95));

    /// <summary>Each request takes 20 ms; one that would make more than <see cref="Limit"/> in flight is refused at once.</summary>
    private sealed class QueueLimitTarget(int models) : ILoadTarget
    {
        public const int Limit = 2;
        private int _inFlight;
        private long _completed;

        public int Models => models;

        public int InFlight => Volatile.Read(ref _inFlight);

        public long Completed => Interlocked.Read(ref _completed);

        public string NameOf(int model) => $"model-{model}";

        public async Task RunAsync(int model, CancellationToken cancellationToken)
        {
            try
            {
                if (Interlocked.Increment(ref _inFlight) > Limit)
                {
                    // A refusal still costs a round trip; without it a refused user would spin.
                    await Task.Delay(2, cancellationToken);
                    Interlocked.Increment(ref _completed);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, $"the slice's queue holds at most {Limit} requests"));
                }

                await Task.Delay(20, cancellationToken);
                Interlocked.Increment(ref _completed);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
