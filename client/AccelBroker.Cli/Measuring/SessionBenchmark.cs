using System.Diagnostics;
using AccelBroker.Client;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// Seed 002's method through an accelerator session: warm-up runs (discarded), then <c>runs</c> timed runs of
/// the same inputs one at a time, end to end as the application sees them.
/// </summary>
internal static class SessionBenchmark
{
    public static async Task<Measurement> MeasureAsync(AcceleratorSession session, string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, Action? measuredRun, CancellationToken cancellationToken)
    {
        RemoteModel model = await session.LoadModelAsync(modelPath, new ModelLoadOptions { Precision = precision }, cancellationToken);
        for (int i = 0; i < warmup; i++)
        {
            (await session.RunAsync(model, inputs, cancellationToken)).Dispose();
        }

        var latencies = new double[runs];
        double queue = 0, decode = 0, compute = 0, encode = 0;
        string device = model.Device;
        long begin = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++)
        {
            long started = Stopwatch.GetTimestamp();
            using ModelOutput output = await session.RunAsync(model, inputs, cancellationToken);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            device = output.Device;
            queue += output.Timing.Queue.TotalMilliseconds;
            decode += output.Timing.Decode.TotalMilliseconds;
            compute += output.Timing.Compute.TotalMilliseconds;
            encode += output.Timing.Encode.TotalMilliseconds;
            measuredRun?.Invoke();
        }

        double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        // The model stays loaded: the slice may be the user's, already running this model for an application.
        return new Measurement(latencies, device, new AgentSplit(queue / runs, decode / runs, compute / runs, encode / runs), seconds);
    }

    /// <summary>"remote agent on loopback" or "remote agent at host:port": where a session's runs were measured.</summary>
    public static string Where(string agentAddress)
    {
        if (Uri.TryCreate(agentAddress, UriKind.Absolute, out Uri? uri))
        {
            bool loopback = uri.IsLoopback || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out System.Net.IPAddress? ip) && System.Net.IPAddress.IsLoopback(ip));
            return loopback ? "remote agent on loopback" : $"remote agent at {uri.Authority}";
        }

        return $"remote agent at {agentAddress}";
    }
}
