using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// A standalone GPU instance measured on an agent that runs on that instance's whole GPU: the model is uploaded
/// (unless held) and the agent times the runs itself (BenchmarkLocal), with no network between them.
/// </summary>
internal static class AgentLocalBenchmark
{
    private static readonly TimeSpan UploadTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan BenchmarkTimeout = TimeSpan.FromMinutes(30);

    public static string Where(string agentAddress) => $"agent-local on {agentAddress}";

    public static async Task<Measurement> MeasureAsync(string agentAddress, string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, CancellationToken cancellationToken)
    {
        var agent = new InferenceAgent.InferenceAgentClient(AgentChannels.Get(agentAddress, TimeSpan.FromSeconds(5)));
        (string sha256, _, _) = await ModelUploader.EnsureHeldAsync(agent, modelPath, compression: false, () => DateTime.UtcNow + UploadTimeout, cancellationToken);
        var request = new BenchmarkLocalRequest { Sha256 = sha256, Precision = WireConversion.ToWire(precision), Iterations = runs, Warmup = warmup };
        foreach (Tensor input in inputs)
        {
            request.Inputs.Add(WireConversion.ToProto(input, compress: false));
        }

        BenchmarkLocalResponse response = await agent.BenchmarkLocalAsync(request, deadline: DateTime.UtcNow + BenchmarkTimeout, cancellationToken: cancellationToken);
        double[] latencies = response.LatenciesSeconds.Select(s => s * 1000).ToArray();
        return new Measurement(latencies, response.Device, Split: null, response.LatenciesSeconds.Sum());
    }
}
