using System.Diagnostics;
using AccelBroker.Agent.Inference;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Hosting.Errors;
using TorchSharp;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// A standalone CPU instance measured as seed 002 did: TorchScript in this process on this host's CPU, no
/// network, the forward call timed alone.
/// </summary>
internal static class InProcessBenchmark
{
    public const string Where = "in-process on this host";

    /// <summary>Measures the model at <paramref name="precision"/>, prepared and fed exactly as an agent would.</summary>
    public static Measurement Measure(string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        PreparedModel model;
        try
        {
            model = PreparedModel.Load(modelPath, precision.ToProtocol());
        }
        catch (DomainException ex)
        {
            throw new CliException($"{modelPath}: {ex.Message}");
        }

        using (model)
        {
            object[] args = inputs.Select(t => (object)model.Input(t.DataType.ToProtocol(), [.. t.Shape], t.Data.Span)).ToArray();
            var latencies = new double[runs];
            long begin = 0;
            for (int i = 0; i < warmup + runs; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (i == warmup)
                {
                    begin = Stopwatch.GetTimestamp();
                }

                using var run = torch.NewDisposeScope();
                long started = Stopwatch.GetTimestamp();
                try
                {
                    _ = model.Forward(args);
                }
                catch (DomainException ex)
                {
                    throw new CliException($"in-process run: {ex.Message}");
                }

                if (i >= warmup)
                {
                    latencies[i - warmup] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }

            return new Measurement(latencies, model.Device, Split: null, Stopwatch.GetElapsedTime(begin).TotalSeconds);
        }
    }
}
