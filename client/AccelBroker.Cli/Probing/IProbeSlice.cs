using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Probing;

/// <summary>What <see cref="MaxModelsProbe"/> needs of a slice: its picture, loading a named copy, unloading.</summary>
internal interface IProbeSlice
{
    Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>Loads a distinct copy of the probed model under <paramref name="alias"/>, with the probe's warm-up.</summary>
    Task<LoadedCopy> LoadCopyAsync(string alias, CancellationToken cancellationToken);

    Task UnloadAsync(string modelId, CancellationToken cancellationToken);
}
