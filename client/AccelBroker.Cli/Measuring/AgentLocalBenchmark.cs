using AccelBroker.Client;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// A standalone GPU instance measured on an agent that runs on that instance's whole GPU: the model is uploaded
/// (unless held) and the agent times the runs itself, with no network between them.
/// </summary>
internal static class AgentLocalBenchmark
{
    public static string Where(string agentAddress) => $"agent-local on {agentAddress}";

    public static async Task<Measurement> MeasureAsync(AgentClient agent, string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, CancellationToken cancellationToken)
    {
        HeldModel model = await agent.EnsureModelHeldAsync(modelPath, cancellationToken);
        LocalBenchmarkResult result = await agent.BenchmarkLocalAsync(
            model, inputs, new LocalBenchmarkOptions { Precision = precision, Iterations = runs, Warmup = warmup }, cancellationToken);
        double[] latencies = result.LatenciesSeconds.Select(s => s * 1000).ToArray();
        return new Measurement(latencies, result.Device, Split: null, result.LatenciesSeconds.Sum());
    }
}
