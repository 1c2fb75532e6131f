using AccelBroker.Cli.Infrastructure;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Probing;

/// <summary>
/// A probed slice on its agent. Copies are loaded from bytes uploaded once, straight with LoadModel: its answer
/// carries the slice's charge, so the probe needs no listing between copies.
/// </summary>
internal sealed class AgentProbeSlice(AgentSlice slice, LoadModelRequest copyTemplate) : IProbeSlice
{
    public Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken) => slice.ListModelsAsync(cancellationToken);

    public async Task<LoadedCopy> LoadCopyAsync(string alias, CancellationToken cancellationToken)
    {
        LoadModelRequest request = copyTemplate.Clone();
        request.Alias = alias;
        LoadModelResponse response = await slice.LoadAsync(request, cancellationToken);
        return new LoadedCopy(response.ModelId, response.ChargedBytes, [.. response.EvictedModelIds], response.SliceChargedBytes);
    }

    public Task UnloadAsync(string modelId, CancellationToken cancellationToken) => slice.UnloadAsync(modelId, cancellationToken);
}
