namespace AccelBroker.Cli.Load;

/// <summary>
/// Drives a "call once" delegate under load, for <c>accel bench</c> and <c>accel sweep</c> (and, after them,
/// <c>compare</c> and <c>loadtest</c>): a closed loop of callers or an open loop of Poisson arrivals, until a
/// <see cref="StopRule"/> says stop, timing each call with the injected <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// A failed call is recorded with its gRPC status (anything that is not an <see cref="Grpc.Core.RpcException"/> as
/// Unknown) and the run goes on. Stopping lets calls in flight complete; cancelling the token interrupts them, and the
/// result keeps what completed before.
/// </remarks>
internal sealed class LoadEngine(TimeProvider time)
{
    public const string StopRequests = "requests";
    public const string StopDuration = "duration";
    public const string StopStable = "stable";
    public const string StopMaxWindows = "max windows";
    public const string StopTimeLimit = "time limit";
    public const string StopInterrupted = "interrupted";

    public static LoadEngine System { get; } = new(TimeProvider.System);

    public async Task<LoadResult> RunAsync(Func<CancellationToken, Task> callOnce, LoadMode mode, StopRule stop, Action<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callOnce);
        GeneratorCpu.Sampler cpu = GeneratorCpu.Start(time);
        using var run = new LoadRun(time, stop, callOnce, cancellationToken);
        Task monitor = run.MonitorAsync(progress);
        try
        {
            await (mode switch
            {
                LoadMode.Closed closed => run.ClosedLoopAsync(closed.Callers),
                LoadMode.Open open => run.OpenLoopAsync(open),
                _ => throw new ArgumentOutOfRangeException(nameof(mode)),
            });
        }
        finally
        {
            run.StopIssuing(StopRequests);
            run.Finished();
            await monitor;
        }

        return run.Finish(mode, cpu.Stop());
    }
}
