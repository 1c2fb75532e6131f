using AccelBroker.Cli.Load;
using AccelBroker.Client;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// A loaded model driven through an accelerator session by the <see cref="LoadEngine"/>: sequential warm-up runs
/// (discarded), then the load. Every caller shares the one session, and so the process's one channel to the agent,
/// which opens further HTTP/2 connections as the streams in flight exceed what one connection allows.
/// </summary>
internal static class SessionLoad
{
    public static async Task<Result> MeasureAsync(
        AcceleratorSession session, RemoteModel model, IReadOnlyList<Tensor> inputs, int warmup, LoadMode mode, StopRule stop, Action<LoadProgress>? progress, LoadEngine engine, CancellationToken cancellationToken)
    {
        for (int i = 0; i < warmup; i++)
        {
            (await session.RunAsync(model, inputs, cancellationToken)).Dispose();
        }

        var split = new SplitSum(model.Device);
        LoadResult load = await engine.RunAsync(
            async ct =>
            {
                // Disposed, as an application that reuses memory would: the next call receives into warm pages.
                using ModelOutput output = await session.RunAsync(model, inputs, ct);
                split.Add(output);
            },
            mode,
            stop,
            progress,
            cancellationToken);
        return new Result(load, split.Device, split.Mean());
    }

    /// <summary>The load's calls, the device the last successful call ran on, and the agent's mean split of those calls.</summary>
    internal sealed record Result(LoadResult Load, string Device, AgentSplit Split);

    // Callers complete concurrently: the sums are kept under a lock, which costs far less than a call.
    private sealed class SplitSum(string device)
    {
        private readonly Lock _lock = new();
        private double _queue, _decode, _compute, _encode;
        private int _count;

        public string Device { get; private set; } = device;

        public void Add(ModelOutput output)
        {
            lock (_lock)
            {
                Device = output.Device;
                _queue += output.Timing.Queue.TotalMilliseconds;
                _decode += output.Timing.Decode.TotalMilliseconds;
                _compute += output.Timing.Compute.TotalMilliseconds;
                _encode += output.Timing.Encode.TotalMilliseconds;
                _count++;
            }
        }

        public AgentSplit Mean()
        {
            lock (_lock)
            {
                return _count == 0 ? new AgentSplit(0, 0, 0, 0) : new AgentSplit(_queue / _count, _decode / _count, _compute / _count, _encode / _count);
            }
        }
    }
}
