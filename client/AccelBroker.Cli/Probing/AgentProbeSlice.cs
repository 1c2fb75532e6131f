using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Probing;

/// <summary>
/// A probed slice on its agent. Copies are loaded from bytes uploaded once, straight with a load: its answer
/// carries the slice's charge, so the probe needs no listing between copies.
/// </summary>
internal sealed class AgentProbeSlice(SliceClient slice, HeldModel model, ModelLoadOptions copyOptions) : IProbeSlice
{
    public Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken) => slice.ListModelsAsync(cancellationToken);

    public async Task<LoadedCopy> LoadCopyAsync(string alias, CancellationToken cancellationToken)
    {
        RemoteModel copy = await slice.LoadModelAsync(model, copyOptions with { Alias = alias }, cancellationToken);
        return new LoadedCopy(copy.ModelId, copy.ChargedBytes, copy.EvictedModelIds, copy.SliceChargedBytes);
    }

    public Task UnloadAsync(string modelId, CancellationToken cancellationToken) => slice.UnloadModelAsync(modelId, cancellationToken);
}
