using AccelBroker.Cli.LoadTesting;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary>The user scheduler against a fake clock: users over time follow the stage shape at each stage's spawn rate.</summary>
public sealed class UserSchedulerTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    // Up to 4 users at 2/s, down to 1 at 2/s, up to 3 at 10/s.
    private static readonly LoadShape Shape = LoadShape.Parse(
        """[{"duration": 2, "users": 4, "spawn_rate": 2}, {"duration": 4, "users": 1, "spawn_rate": 2}, {"duration": 6, "users": 3, "spawn_rate": 10}]""", "test");

    [Fact]
    public async Task UsersFollowTheShapeWithinOneUserAndSettleOnEachStagesTarget()
    {
        var time = new FakeTimeProvider();
        var users = new FakeUsers();
        var scheduler = new UserScheduler(Shape, time, users.RunAsync);
        var seen = new List<(double Seconds, int Users)>();

        // 6 s in 50 ms steps: bounded by the shape's length.
        for (int step = 0; step < 6 / Step.TotalSeconds; step++)
        {
            Assert.NotEqual(-1, scheduler.Tick());
            seen.Add((scheduler.Elapsed.TotalSeconds, scheduler.Users));
            time.Advance(Step);
        }

        Assert.Equal(-1, scheduler.Tick());
        Assert.All(seen, s => Assert.True(Math.Abs(s.Users - Expected(s.Seconds)) <= 1, $"{s.Users} users at {s.Seconds:0.00} s, expected about {Expected(s.Seconds)}"));
        // Settled: each stage's target is held once its ramp is over.
        Assert.Equal(4, UsersAt(seen, 1.9));
        Assert.Equal(1, UsersAt(seen, 3.9));
        Assert.Equal(3, UsersAt(seen, 5.9));
        // The first of a ramp starts at once, then one per 1/rate s: 1 at 0 s, 2 at 0.5 s, 3 at 1 s.
        Assert.Equal(1, UsersAt(seen, 0));
        Assert.Equal(2, UsersAt(seen, 0.5));
        Assert.Equal(3, UsersAt(seen, 1.0));

        await scheduler.StopAllAsync();
        Assert.Equal(0, scheduler.Users);
        Assert.Equal(0, users.Running);
    }

    [Fact]
    public async Task StoppingTakesTheNewestUsersAndLetsThemEnd()
    {
        var time = new FakeTimeProvider();
        var users = new FakeUsers();
        var scheduler = new UserScheduler(Shape, time, users.RunAsync);
        for (int step = 0; step < 3.5 / Step.TotalSeconds; step++)
        {
            scheduler.Tick();
            time.Advance(Step);
            if (step == 38)
            {
                Assert.Equal(4, scheduler.Users);
            }
        }

        Assert.Equal(1, scheduler.Users);
        // Users 1, 2 and 3 were told to stop and ended; user 0, the oldest, runs on.
        await users.WaitUntilEndedAsync(started: 4, ended: [1, 2, 3]);
        Assert.Equal([0], users.Alive());
        await scheduler.StopAllAsync();
        Assert.Empty(users.Alive());
    }

    private static int UsersAt(List<(double Seconds, int Users)> seen, double seconds) =>
        seen.Last(s => s.Seconds <= seconds + 1e-9).Users;

    // Locust's semantics, written out for this shape: the first change at once, then rate per second.
    private static double Expected(double t) => t switch
    {
        < 2 => Math.Min(4, 1 + Math.Floor(2 * t)),
        < 4 => Math.Max(1, 3 - Math.Floor(2 * (t - 2))),
        _ => Math.Min(3, 2 + Math.Floor(10 * (t - 4))),
    };

    private sealed class FakeUsers
    {
        private readonly Lock _gate = new();
        private readonly HashSet<int> _alive = [];
        private readonly HashSet<int> _started = [];

        public int Running
        {
            get
            {
                lock (_gate)
                {
                    return _alive.Count;
                }
            }
        }

        public int[] Alive()
        {
            lock (_gate)
            {
                return [.. _alive.Order()];
            }
        }

        public async Task RunAsync(int number, CancellationToken stop)
        {
            lock (_gate)
            {
                _alive.Add(number);
                _started.Add(number);
            }

            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
            }

            lock (_gate)
            {
                _alive.Remove(number);
            }
        }

        /// <summary>Waits until users 0 … <paramref name="started"/> - 1 have started and <paramref name="ended"/> have ended again.</summary>
        public async Task WaitUntilEndedAsync(int started, int[] ended)
        {
            // Users start and end on the thread pool; bounded to 10 s of polling.
            for (int i = 0; i < 1000 && !Settled(started, ended); i++)
            {
                await Task.Delay(10);
            }

            Assert.True(Settled(started, ended), $"started {string.Join(", ", _started)}; alive {string.Join(", ", Alive())}");
        }

        private bool Settled(int started, int[] ended)
        {
            lock (_gate)
            {
                return _started.Count == started && !_alive.Intersect(ended).Any();
            }
        }
    }
}
