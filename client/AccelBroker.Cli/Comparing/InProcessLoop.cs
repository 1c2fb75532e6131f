using AccelBroker.Agent.Inference;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Hosting.Errors;
using TorchSharp;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// A standalone CPU instance measured as seed 002 did: TorchScript in this process on this machine's CPU, no
/// network, the forward call timed alone; with N callers, N threads each with its own prepared copy of the model.
/// </summary>
internal static class InProcessLoop
{
    public static async Task<CompareOutcome> MeasureAsync(CompareWorkload work, bool progress, string instanceType, CancellationToken cancellationToken)
    {
        var copies = new List<PreparedModel>();
        var inputs = new List<object[]>();
        try
        {
            for (int i = 0; i < work.Concurrency; i++)
            {
                PreparedModel copy = PreparedModel.Load(work.ModelPath, work.Precision.ToProtocol());
                copies.Add(copy);
                inputs.Add([.. work.Inputs.Select(t => (object)copy.Input(t.DataType.ToProtocol(), [.. t.Shape], t.Data.Span))]);
            }

            ClosedLoopResult measured = await CompareProgress.RunAsync(progress, instanceType, work.Runs, tick => ClosedLoop.RunOnThreadsAsync(
                work.Concurrency, work.Runs, work.Warmup, (caller, _) => Forward(copies[caller], inputs[caller]), tick, cancellationToken));
            AccuracyResult? accuracy = work.CheckAccuracy ? AccuracyCheck.InProcess(work.ModelPath, work.Precision, work.Inputs) : null;
            string how = work.Concurrency == 1
                ? "closed loop, 1 in-process caller"
                : $"closed loop, {work.Concurrency} in-process caller threads, one model copy each";
            return new CompareOutcome(measured, $"{copies[0].Device}, in-process on {HostCpu.Description}", how, null, null, accuracy);
        }
        catch (DomainException ex) when (work.Precision != ModelPrecision.Fp32)
        {
            // At fp16 or bf16 an op may have no CPU kernel: that row says so, the comparison goes on. At fp32 the
            // model or inputs are wrong for every row, and the verb fails as before.
            return CompareOutcome.NotMeasured($"not run at {work.PrecisionName} on this machine's CPU: {ex.Message}");
        }
        catch (DomainException ex)
        {
            throw new CliException($"in-process run of {work.ModelPath}: {ex.Message}");
        }
        finally
        {
            foreach (object[] args in inputs)
            {
                foreach (torch.Tensor tensor in args.Cast<torch.Tensor>())
                {
                    tensor.Dispose();
                }
            }

            foreach (PreparedModel copy in copies)
            {
                copy.Dispose();
            }
        }
    }

    private static void Forward(PreparedModel model, object[] args)
    {
        // Dispose scopes and inference mode are per thread: each caller thread enters its own.
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        _ = model.Forward(args);
    }
}
