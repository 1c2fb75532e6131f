using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
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
        Precision wirePrecision = WireConversion.ToWire(precision);
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        torch.jit.ScriptModule module;
        try
        {
            module = torch.jit.load(modelPath);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new CliException($"{modelPath}: not a loadable TorchScript model: {TorchErrors.Clean(ex.Message)}");
        }

        using (module)
        {
            try
            {
                LoadedModel.PrepareForInference(module, wirePrecision);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new CliException($"{modelPath}: cannot prepare the model for {precision}: {TorchErrors.Clean(ex.Message)}");
            }

            torch.ScalarType? cast = LoadedModel.CastTypeOf(wirePrecision);
            object[] args = inputs
                .Select(t => (object)TorchTensorCodec.ToTorch(new WireTensor(WireConversion.ToWire(t.DataType), [.. t.Shape], t.Data), torch.CPU, cast))
                .ToArray();
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
                    _ = module.call(args);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new CliException($"in-process run: the model rejected its inputs: {TorchErrors.Clean(ex.Message)}");
                }

                if (i >= warmup)
                {
                    latencies[i - warmup] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }

            return new Measurement(latencies, "cpu", Split: null, Stopwatch.GetElapsedTime(begin).TotalSeconds);
        }
    }
}
