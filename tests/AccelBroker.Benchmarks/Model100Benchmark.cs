using System.Diagnostics;
using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Content addressing: the first <c>LoadModelAsync</c> of a 99 MB model hashes, uploads and loads it; a
/// second of the same file finds it held and loaded and should cost almost nothing. The agent's model
/// store is a fresh folder each run, so the first upload is real.
/// </summary>
internal sealed class Model100Benchmark : IBenchmark
{
    private const double TargetShare = 0.02;

    public string Name => "model100";

    public string Title => "100 MB model: second LoadModelAsync vs first (upload + load)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        string path = await context.LargeModels.RequireAsync("mlp_100mb.pt", cancellationToken);
        AcceleratorSession session = context.Cluster.Session;
        long length = new FileInfo(path).Length;

        long started = Stopwatch.GetTimestamp();
        RemoteModel first = await session.LoadModelAsync(path, cancellationToken: cancellationToken);
        double firstMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        started = Stopwatch.GetTimestamp();
        RemoteModel second = await session.LoadModelAsync(path, cancellationToken: cancellationToken);
        double secondMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        // Not the headline: later loads show whether the second one was typical.
        var later = new List<double>();
        await AlternatingBlocks.MeasureAsync(
            () => session.LoadModelAsync(path, cancellationToken: cancellationToken),
            later,
            context.Quick ? 5 : 20,
            Stopwatch.StartNew(),
            TimeSpan.FromSeconds(10),
            cancellationToken);
        var laterSamples = new Samples(later);

        // A reload: the bytes are held (and were vetted by their first load), the model is not loaded.
        var reloads = new List<double>();
        RemoteModel loaded = first;
        for (int i = 0; i < (context.Quick ? 2 : 5); i++)
        {
            await session.UnloadModelAsync(loaded, cancellationToken);
            long unloaded = Stopwatch.GetTimestamp();
            loaded = await session.LoadModelAsync(path, cancellationToken: cancellationToken);
            reloads.Add(Stopwatch.GetElapsedTime(unloaded).TotalMilliseconds);
        }

        var reloadSamples = new Samples(reloads);

        if (!first.Uploaded || second.Uploaded)
        {
            throw new InvalidOperationException($"expected the first load to upload and the second not to (uploaded: {first.Uploaded}, {second.Uploaded}); was the agent's model store not fresh?");
        }

        double share = secondMs / firstMs;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "second load / first load",
            Value = share,
            ValueText = Fmt.Invariant($"{share * 100:0.00} % ({secondMs:0.00} / {firstMs:0} ms)"),
            Target = Fmt.Invariant($"<= {TargetShare * 100:0} %"),
            Outcome = BenchmarkResult.Judge(share <= TargetShare),
            Device = second.Device,
            Details =
            [
                Fmt.Invariant($"model {Path.GetFileName(path)} = {length} bytes ({length / 1e6:0.0} MB), agent store {context.Cluster.DataDirectory} (fresh)"),
                Fmt.Invariant($"first : {firstMs:0.0} ms (client SHA-256 + upload + agent verify + torch.jit.load; uploaded={first.Uploaded}); {length / 1e6 / (firstMs / 1000):0} MB/s overall"),
                Fmt.Invariant($"second: {secondMs:0.000} ms (HasModel + LoadModel, already held and loaded; uploaded={second.Uploaded})"),
                $"later loads (informational): {laterSamples.Describe()}",
                $"reloads after an unload (bytes held, not loaded): {reloadSamples.Describe()}",
            ],
            Numbers = new Dictionary<string, double>
            {
                ["share"] = share,
                ["first_ms"] = firstMs,
                ["second_ms"] = secondMs,
                ["later_p50_ms"] = laterSamples.P50,
                ["reload_p50_ms"] = reloadSamples.P50,
                ["model_bytes"] = length,
            },
        };
    }
}
