using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Client;
using Grpc.Core;

namespace AccelBroker.Tests.Processes;

/// <summary>
/// Closed-loop load for fault tests and the fault benchmark: <c>N</c> sessions on one accelerator, each with one call in
/// flight, checking every output against the expected one. Counts right, wrong and failed calls, and when calls first
/// succeeded on each agent, so a test can tell how long recovery took. Every loop ends on <see cref="StopAsync"/> or
/// after <see cref="MaxCallsPerClient"/> calls.
/// </summary>
public sealed class ClientLoad : IAsyncDisposable
{
    /// <summary>Bounds every client's loop whatever the test does.</summary>
    public const int MaxCallsPerClient = 200_000;

    private readonly List<AcceleratorSession> _sessions;
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly ConcurrentDictionary<string, long> _firstSuccess = new(StringComparer.Ordinal);
    private string? _firstWrong;
    private long _right;
    private long _wrong;

    private ClientLoad(List<AcceleratorSession> sessions) => _sessions = sessions;

    /// <summary>Calls answered with the expected output.</summary>
    public long Right => Interlocked.Read(ref _right);

    /// <summary>Calls answered with another output: must stay 0.</summary>
    public long Wrong => Interlocked.Read(ref _wrong);

    /// <summary>What the first wrong answer looked like; <see langword="null"/> while none was wrong.</summary>
    public string? FirstWrong => _firstWrong;

    /// <summary>Each failed call's status and message.</summary>
    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>
    /// Opens <paramref name="clients"/> sessions on the host's accelerator, loads <paramref name="modelPath"/> in each and
    /// starts calling it with <paramref name="input"/>, every call bounded by <paramref name="callTimeout"/>; each client waits
    /// <paramref name="pause"/> after each call (zero: back to back), which makes the load moderate rather than saturating.
    /// </summary>
    public static async Task<ClientLoad> StartAsync(
        AcceleratorSessionOptions options, int clients, string modelPath, Tensor input, Tensor expected, TimeSpan callTimeout, TimeSpan pause = default)
    {
        var sessions = new List<AcceleratorSession>();
        var models = new List<RemoteModel>();
        for (int i = 0; i < clients; i++)
        {
            AcceleratorSession session = await AcceleratorSession.OpenAsync(options with { CallTimeout = callTimeout, UsageReportInterval = TimeSpan.Zero });
            sessions.Add(session);
            models.Add(await session.LoadModelAsync(modelPath));
        }

        var load = new ClientLoad(sessions);
        for (int i = 0; i < clients; i++)
        {
            AcceleratorSession session = sessions[i];
            RemoteModel model = models[i];
            load._loops.Add(Task.Run(() => load.LoopAsync(session, model, input, expected, pause)));
        }

        return load;
    }

    /// <summary>
    /// How long after <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp) the first call succeeded on an agent
    /// no call had succeeded on before; <see langword="null"/> while none has.
    /// </summary>
    public TimeSpan? FirstSuccessOnANewAgentAfter(long since)
    {
        long[] after = [.. _firstSuccess.Values.Where(t => t >= since)];
        return after.Length == 0 ? null : Stopwatch.GetElapsedTime(since, after.Min());
    }

    /// <summary>The agents (addresses) calls succeeded on.</summary>
    public IReadOnlyCollection<string> AgentsServed => [.. _firstSuccess.Keys];

    /// <summary>Stops every loop after its call in flight and waits for them.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (AcceleratorSession session in _sessions)
        {
            await session.DisposeAsync();
        }

        _stop.Dispose();
    }

    // Float outputs within 1e-5 (absolute and relative) of the expected ones: libtorch's CPU kernels split reductions by
    // thread, so the last bits depend on how many threads a run got. Anything else must match byte for byte.
    private static bool Matches(Tensor actual, Tensor expected)
    {
        if (actual.DataType != expected.DataType || !actual.Shape.SequenceEqual(expected.Shape))
        {
            return false;
        }

        if (expected.DataType != TensorDataType.Float32)
        {
            return actual.Data.Span.SequenceEqual(expected.Data.Span);
        }

        ReadOnlySpan<float> a = actual.AsSpan<float>();
        ReadOnlySpan<float> e = expected.AsSpan<float>();
        for (int i = 0; i < e.Length; i++)
        {
            if (!(Math.Abs(a[i] - e[i]) <= 1e-5f + (1e-5f * Math.Abs(e[i]))))
            {
                return false;
            }
        }

        return true;
    }

    private async Task LoopAsync(AcceleratorSession session, RemoteModel model, Tensor input, Tensor expected, TimeSpan pause)
    {
        for (int call = 0; call < MaxCallsPerClient && !_stop.IsCancellationRequested; call++)
        {
            try
            {
                // Not cancelled by the stop: a call in flight finishes, so no failure is made up by the test itself.
                ModelOutput output = await session.RunAsync(model, [input]);
                if (output.Count == 1 && Matches(output[0], expected))
                {
                    Interlocked.Increment(ref _right);
                    _firstSuccess.TryAdd(session.Accelerator.AgentAddress.TrimEnd('/'), Stopwatch.GetTimestamp());
                }
                else
                {
                    Interlocked.Increment(ref _wrong);
                    _firstWrong ??= $"{output.Count} output(s), first of shape [{string.Join(", ", output.Count > 0 ? output[0].Shape : [])}]";
                }
            }
            catch (RpcException ex)
            {
                _failures.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
            }

            if (pause > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(pause, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }
}
