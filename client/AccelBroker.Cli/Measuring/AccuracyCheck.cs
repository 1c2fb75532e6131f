using System.Runtime.CompilerServices;
using AccelBroker.Agent.Inference;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Hosting.Errors;
using Grpc.Core;
using TorchSharp;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// <c>--check-accuracy</c> (compare, bench, sweep): runs the fp32 model and the reduced-precision one on the same
/// inputs and compares each output, as TorchBench's <c>--use_cosine_similarity</c> does (seed 004). An fp32 row
/// checked against itself gives cosine 1 and difference 0: the check's own sanity test.
/// </summary>
internal static class AccuracyCheck
{
    private static readonly TimeSpan UnloadLimit = TimeSpan.FromSeconds(30);

    /// <summary>Both models already loaded in one session (bench and sweep hold the reduced one; they load the fp32 one beside it).</summary>
    public static async Task<AccuracyResult> RunAsync(AcceleratorSession session, RemoteModel fp32, RemoteModel reduced, string precision, IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken)
    {
        ModelOutput reference = await session.RunAsync(fp32, inputs, cancellationToken);
        ModelOutput candidate = await session.RunAsync(reduced, inputs, cancellationToken);
        return Compare(precision, reference, candidate);
    }

    /// <summary>
    /// Against fp32 for a model bench or sweep already holds at <paramref name="precision"/>: the fp32 model is loaded
    /// beside it (same bytes, no second upload) and, unless <paramref name="keep"/> says the slice or the tool holds it
    /// anyway, unloaded again, so the check leaves the slice as it found it. Refusals are the result's reason.
    /// </summary>
    public static async Task<AccuracyResult> AgainstFp32Async(
        AcceleratorSession session, string modelPath, RemoteModel reduced, ModelPrecision precision, Func<string, bool> keep, IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken)
    {
        string name = Formatting.Precision(precision.ToProtocol());
        if (precision == ModelPrecision.Fp32)
        {
            return await RunAsync(session, reduced, reduced, name, inputs, cancellationToken);
        }

        RemoteModel? fp32 = null;
        try
        {
            fp32 = await session.LoadModelAsync(modelPath, new ModelLoadOptions(), cancellationToken);
            return await RunAsync(session, fp32, reduced, name, inputs, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is not StatusCode.Cancelled)
        {
            return AccuracyResult.NotChecked(name, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        finally
        {
            if (fp32 is not null && !keep(fp32.ModelId))
            {
                await UnloadQuietlyAsync(session, fp32);
            }
        }
    }

    /// <summary>
    /// Loads the fp32 model beside the reduced one (the same bytes: no second upload) and compares; a refusal of the
    /// fp32 load (it is larger) or of either run is the result's reason, not an exception.
    /// </summary>
    public static async Task<AccuracyResult> RunAsync(AcceleratorSession session, string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken)
    {
        string name = Formatting.Precision(precision.ToProtocol());
        try
        {
            RemoteModel reduced = await session.LoadModelAsync(modelPath, new ModelLoadOptions { Precision = precision }, cancellationToken);
            RemoteModel fp32 = precision == ModelPrecision.Fp32 ? reduced : await session.LoadModelAsync(modelPath, new ModelLoadOptions(), cancellationToken);
            return await RunAsync(session, fp32, reduced, name, inputs, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is not StatusCode.Cancelled)
        {
            return AccuracyResult.NotChecked(name, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    /// <summary>In this process on this machine's CPU, prepared as an agent prepares it; an op without a CPU kernel at that precision is the reason.</summary>
    public static AccuracyResult InProcess(string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs)
    {
        string name = Formatting.Precision(precision.ToProtocol());
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        try
        {
            double[][] reference = RunInProcess(modelPath, ModelPrecision.Fp32, inputs, out long[][] shapes);
            double[][] candidate = RunInProcess(modelPath, precision, inputs, out long[][] candidateShapes);
            return Compare(name, reference, shapes, candidate, candidateShapes);
        }
        catch (DomainException ex)
        {
            return AccuracyResult.NotChecked(name, $"on this machine's CPU at {name}: {ex.Message}");
        }
    }

    /// <summary>Two outputs of the same inputs, element by element.</summary>
    public static AccuracyResult Compare(string precision, IReadOnlyList<Tensor> reference, IReadOnlyList<Tensor> candidate) =>
        Compare(
            precision,
            [.. reference.Select(Widen)], [.. reference.Select(t => t.Shape.ToArray())],
            [.. candidate.Select(Widen)], [.. candidate.Select(t => t.Shape.ToArray())]);

    /// <summary>Cosine similarity and max absolute difference of two equally long vectors; the pure core.</summary>
    public static OutputAccuracy Of(int output, IReadOnlyList<long> shape, ReadOnlySpan<double> reference, ReadOnlySpan<double> candidate)
    {
        if (reference.Length != candidate.Length)
        {
            throw new ArgumentException("the outputs differ in length", nameof(candidate));
        }

        int nonFinite = 0;
        double dot = 0, referenceNorm = 0, candidateNorm = 0, maxAbs = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double a = reference[i], b = candidate[i];
            if (!double.IsFinite(a) || !double.IsFinite(b))
            {
                nonFinite++;
                continue;
            }

            dot += a * b;
            referenceNorm += a * a;
            candidateNorm += b * b;
            maxAbs = Math.Max(maxAbs, Math.Abs(a - b));
        }

        if (nonFinite > 0)
        {
            return new OutputAccuracy(output, shape, null, null, nonFinite);
        }

        // Two zero vectors are the same output; a zero against a non-zero one shares no direction.
        double cosine = referenceNorm == 0 && candidateNorm == 0 ? 1
            : referenceNorm == 0 || candidateNorm == 0 ? 0
            : Math.Clamp(dot / (Math.Sqrt(referenceNorm) * Math.Sqrt(candidateNorm)), -1, 1);
        return new OutputAccuracy(output, shape, cosine, maxAbs, 0);
    }

    private static AccuracyResult Compare(string precision, double[][] reference, long[][] referenceShapes, double[][] candidate, long[][] candidateShapes)
    {
        if (reference.Length != candidate.Length)
        {
            return AccuracyResult.NotChecked(precision, $"the model returned {candidate.Length} outputs at {precision} but {reference.Length} at fp32");
        }

        var outputs = new OutputAccuracy[reference.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            if (!referenceShapes[i].AsSpan().SequenceEqual(candidateShapes[i]))
            {
                return AccuracyResult.NotChecked(precision, $"output {i} has shape [{string.Join(", ", candidateShapes[i])}] at {precision} but [{string.Join(", ", referenceShapes[i])}] at fp32");
            }

            outputs[i] = Of(i, referenceShapes[i], reference[i], candidate[i]);
        }

        return new AccuracyResult(precision, AccuracyResult.Fp32, outputs, null);
    }

    // Its own deadline, not the caller's token: an interrupted check still unloads what it loaded.
    private static async Task UnloadQuietlyAsync(AcceleratorSession session, RemoteModel model)
    {
        using var limit = new CancellationTokenSource(UnloadLimit);
        try
        {
            await session.UnloadModelAsync(model, limit.Token);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            Console.Error.WriteLine($"accel: warning: fp32 reference model {model.ModelId} could not be unloaded: {(ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : "timed out")}");
        }
    }

    private static double[] Widen(Tensor tensor) => Array.ConvertAll(tensor.ToSingleArray(), v => (double)v);

    private static double[][] RunInProcess(string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, out long[][] shapes)
    {
        using PreparedModel model = PreparedModel.Load(modelPath, precision.ToProtocol());
        object[] args = [.. inputs.Select(t => (object)model.Input(t.DataType.ToProtocol(), [.. t.Shape], t.Data.Span))];
        List<torch.Tensor> outputs = Flatten(model.Forward(args));
        shapes = [.. outputs.Select(o => o.shape)];
        return [.. outputs.Select(o => o.to_type(torch.ScalarType.Float64).cpu().contiguous().data<double>().ToArray())];
    }

    // What TorchScript returns, as the agent flattens it: a tensor, a list (Tensor[]), or a tuple of tensors.
    private static List<torch.Tensor> Flatten(object? result) => result switch
    {
        torch.Tensor tensor => [tensor],
        torch.Tensor[] list => [.. list],
        ITuple tuple => [.. Enumerable.Range(0, tuple.Length).Select(i => tuple[i] as torch.Tensor ?? throw Unsupported(tuple[i]))],
        object[] objects => [.. objects.Select(o => o as torch.Tensor ?? throw Unsupported(o))],
        _ => throw Unsupported(result),
    };

    private static DomainException Unsupported(object? value) =>
        DomainException.Invalid($"the model returned {value?.GetType().Name ?? "None"}; the check compares tensor outputs only");
}
