using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>An accelerator's slice on its agent, reached directly (the broker is not on the data path).</summary>
internal sealed class AgentSlice
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    // Uploads and loads of large models (a load includes its warm-up run) take far longer than a listing.
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(5);

    private readonly InferenceAgent.InferenceAgentClient _agent;

    public AgentSlice(string sliceId, string agentAddress)
    {
        SliceId = sliceId;
        _agent = new InferenceAgent.InferenceAgentClient(AgentChannels.Get(agentAddress, TimeSpan.FromSeconds(5)));
    }

    public string SliceId { get; }

    /// <summary>The accelerator at <paramref name="ordinal"/> of <paramref name="host"/>, as the broker resolves it, and its slice.</summary>
    public static async Task<(Accelerator Accelerator, AgentSlice Slice)> ResolveAsync(BrokerConnection broker, string host, int ordinal, CancellationToken cancellationToken)
    {
        ResolveAcceleratorResponse resolved = await broker.Client.ResolveAcceleratorAsync(
            new ResolveAcceleratorRequest { Host = host, Ordinal = ordinal }, deadline: BrokerConnection.Deadline, cancellationToken: cancellationToken);
        return (resolved.Accelerator, new AgentSlice(resolved.Accelerator.Id, resolved.Accelerator.AgentAddress));
    }

    public async Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken) =>
        await _agent.ListModelsAsync(new ListModelsRequest { SliceId = SliceId }, deadline: Deadline(CallTimeout), cancellationToken: cancellationToken);

    /// <summary>Uploads the model file unless the agent holds its bytes already; returns their SHA-256.</summary>
    public async Task<string> EnsureHeldAsync(string path, CancellationToken cancellationToken) =>
        (await ModelUploader.EnsureHeldAsync(_agent, path, compression: false, () => Deadline(TransferTimeout), cancellationToken)).Sha256;

    /// <summary>Loads held bytes onto this slice (the request's slice id is set here).</summary>
    public async Task<LoadModelResponse> LoadAsync(LoadModelRequest request, CancellationToken cancellationToken)
    {
        request.SliceId = SliceId;
        return await _agent.LoadModelAsync(request, deadline: Deadline(TransferTimeout), cancellationToken: cancellationToken);
    }

    public async Task UnloadAsync(string modelId, CancellationToken cancellationToken) =>
        await _agent.UnloadModelAsync(new UnloadModelRequest { SliceId = SliceId, ModelId = modelId }, deadline: Deadline(CallTimeout), cancellationToken: cancellationToken);

    private static DateTime Deadline(TimeSpan timeout) => DateTime.UtcNow + timeout;
}
