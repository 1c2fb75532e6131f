using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.LoadTesting;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary>The stage shape as data: seed 003's default, the pure target function, and <c>--stages</c> validation.</summary>
public sealed class LoadShapeTests
{
    [Fact]
    public void TheDefaultIsSeed003sRampAndHoldFrom10To200Users()
    {
        IReadOnlyList<LoadStage> stages = LoadShape.Seed003.Stages;

        // The seed's own three stages, then the same 30 s ramp-and-hold 20 users at a time.
        Assert.Equal([new(30, 10, 5), new(60, 20, 1), new(90, 40, 2)], stages.Take(3));
        Assert.Equal([10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200], stages.Select(s => s.Users));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => 30.0 * i), stages.Select(s => s.Duration));
        Assert.All(stages.Skip(2), s => Assert.Equal(2, s.SpawnRate));
        Assert.Equal(TimeSpan.FromSeconds(330), LoadShape.Seed003.Length);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(29.999, 10)]
    [InlineData(30, 20)]
    [InlineData(59.9, 20)]
    [InlineData(60, 40)]
    [InlineData(329.9, 200)]
    public void TheTargetAtATimeIsTheStageThatEndsAfterIt(double seconds, int users)
    {
        Assert.Equal(users, LoadShape.Seed003.TargetAt(TimeSpan.FromSeconds(seconds))?.Users);
    }

    [Fact]
    public void AfterTheLastStageThereIsNoTarget()
    {
        Assert.Null(LoadShape.Seed003.TargetAt(TimeSpan.FromSeconds(330)));
        Assert.Equal(-1, LoadShape.Seed003.StageAt(TimeSpan.FromSeconds(1000)));
    }

    [Fact]
    public void AStagesFileInTheSeedsFormatIsReadAsItIsWritten()
    {
        LoadShape shape = LoadShape.Parse("""[{"duration": 1.5, "users": 2, "spawn_rate": 10}, {"duration": 3, "users": 0, "spawn_rate": 0.5}]""", "test");

        Assert.Equal([new(1.5, 2, 10), new(3, 0, 0.5)], shape.Stages);
        Assert.Equal(TimeSpan.FromSeconds(1.5), shape.StartOf(1));
    }

    [Theory]
    [InlineData("[]", "test has no stages")]
    [InlineData("{}", "test must be a JSON list of {\"duration\", \"users\", \"spawn_rate\"}, got object")]
    [InlineData("[{\"duration\": 1", "test is not JSON: ")]
    [InlineData("""[{"duration": 10, "users": 1, "spawn_rate": 1}, {"duration": 10, "users": 2, "spawn_rate": 1}]""", "test: stage 2: durations must increase (each is the time since the start at which its stage ends), got 10 after 10")]
    [InlineData("""[{"duration": 10, "users": 1, "spawn_rate": 1}, {"duration": 5, "users": 2, "spawn_rate": 1}]""", "test: stage 2: durations must increase (each is the time since the start at which its stage ends), got 5 after 10")]
    [InlineData("""[{"duration": 10, "users": -1, "spawn_rate": 1}]""", "test: stage 1: users must be a whole number from 0 to 10000, got -1")]
    [InlineData("""[{"duration": 10, "users": 1.5, "spawn_rate": 1}]""", "test: stage 1: users must be a whole number from 0 to 10000, got 1.5")]
    [InlineData("""[{"duration": 10, "users": 1, "spawn_rate": 0}]""", "test: stage 1: spawn_rate must be more than 0 users per second (at most 10000), got 0")]
    [InlineData("""[{"duration": 10, "users": 1, "spawn_rate": -2}]""", "test: stage 1: spawn_rate must be more than 0 users per second (at most 10000), got -2")]
    [InlineData("""[{"duration": 0, "users": 1, "spawn_rate": 1}]""", "test: stage 1: duration must be more than 0 and at most 604800 seconds since the start, got 0")]
    [InlineData("""[{"users": 1, "spawn_rate": 1}]""", "test: stage 1 has no \"duration\"")]
    [InlineData("""[{"duration": "10", "users": 1, "spawn_rate": 1}]""", "test: stage 1: \"duration\" must be a number, got \"10\"")]
    [InlineData("[3]", "test: stage 1 must be an object {\"duration\", \"users\", \"spawn_rate\"}")]
    public void ABadStagesFileIsOneClearError(string json, string expected)
    {
        CliUsageException error = Assert.Throws<CliUsageException>(() => LoadShape.Parse(json, "test"));

        Assert.StartsWith(expected, error.Message);
    }
}
