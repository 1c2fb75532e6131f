using Grpc.Core;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// Seed 003's staged load test: users that follow a <see cref="LoadShape"/> (<see cref="UserScheduler"/>), each
/// looping over a random model (its own seeded random, so a run repeats), one request at a time, with an optional
/// think time between. Ctrl-C (the token) stops every user at once: requests in flight are abandoned and not counted,
/// and what was measured until then is returned.
/// </summary>
internal sealed class LoadTestRun(LoadShape shape, ILoadTarget target, int seed, ThinkTime? thinkTime, TimeProvider time)
{
    /// <summary>How often users are started or stopped and the display refreshed.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    public async Task<LoadTestResult> RunAsync(Action<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var recorder = new LoadRecorder(shape, target.Models);
        UserScheduler? scheduler = null;
        scheduler = new UserScheduler(shape, time, (number, stop) => UserAsync(number, stop, recorder, scheduler!, abort.Token));
        bool interrupted = false;
        try
        {
            // Ends with the shape: every tick waits, and the shape's last stage ends at a finite time.
            while (scheduler.Tick() is var stage and >= 0)
            {
                recorder.ObserveUsers(stage, scheduler.Users);
                if (progress is not null)
                {
                    TimeSpan elapsed = scheduler.Elapsed;
                    (int requests, _) = recorder.CountsOf(stage);
                    double stageSeconds = (elapsed - shape.StartOf(stage)).TotalSeconds;
                    progress(new LoadProgress(stage + 1, shape.Stages.Count, scheduler.Users, stageSeconds > 0 ? requests / stageSeconds : 0, recorder.TotalFailures(), elapsed, shape.Length - elapsed));
                }

                await Task.Delay(TickInterval, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
            await abort.CancelAsync();
        }
        finally
        {
            await scheduler.StopAllAsync();
        }

        TimeSpan end = scheduler.Elapsed;
        (IReadOnlyList<StageResult> stages, IReadOnlyList<long> perModel, FirstFailure? first) = recorder.Results(interrupted ? end : shape.Length);
        return new LoadTestResult(stages, perModel, first, Math.Min(end.TotalSeconds, shape.Length.TotalSeconds), interrupted);
    }

    private async Task UserAsync(int number, CancellationToken stop, LoadRecorder recorder, UserScheduler scheduler, CancellationToken abort)
    {
        var random = new Random(unchecked((seed * 7919) + number));
        // Ends when the scheduler stops this user or Ctrl-C aborts every one.
        while (!stop.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            int model = random.Next(target.Models);
            long started = time.GetTimestamp();
            StatusCode status = StatusCode.OK;
            try
            {
                await target.RunAsync(model, abort);
            }
            catch (Exception ex) when (abort.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return;
            }
            catch (RpcException ex)
            {
                status = ex.StatusCode;
            }

            recorder.Record(time.GetElapsedTime(started), status, model, scheduler.Elapsed, scheduler.Users);
            if (thinkTime is not null)
            {
                try
                {
                    await Task.Delay(thinkTime.Next(random), time, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
