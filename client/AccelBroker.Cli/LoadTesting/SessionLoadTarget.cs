using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// The models a load test runs, on an accelerator session. Each model file, and each of its <c>--copies</c>, is loaded
/// under an alias of this run (<c>loadtest-RUN-N</c>): a distinct copy charged on its own, as seed 003 loads copies of
/// one model to test a multi-model endpoint, and one that no application shares, so unloading it at the end takes
/// away only what the tool loaded.
/// </summary>
internal sealed class SessionLoadTarget(AcceleratorSession session, IReadOnlyList<Tensor> inputs, string aliasPrefix) : ILoadTarget
{
    private readonly List<LoadedModel> _loaded = [];

    public IReadOnlyList<LoadedModel> Loaded => _loaded;

    public int Models => _loaded.Count;

    public string AliasPrefix => aliasPrefix;

    public string NameOf(int model) => _loaded[model].Alias;

    /// <summary>Loads <paramref name="copies"/> copies of each file, uploading a file's bytes once; what loaded is kept for <see cref="UnloadAllAsync"/> even when a later load fails.</summary>
    public async Task LoadAsync(IReadOnlyList<string> files, int copies, ModelLoadOptions options, Action<int>? loaded, CancellationToken cancellationToken)
    {
        foreach (string file in files)
        {
            for (int copy = 0; copy < copies; copy++)
            {
                string alias = $"{aliasPrefix}{_loaded.Count}";
                RemoteModel model = await session.LoadModelAsync(file, options with { Alias = alias }, cancellationToken);
                _loaded.Add(new LoadedModel(Path.GetFileName(file), alias, model));
                loaded?.Invoke(_loaded.Count);
            }
        }
    }

    public async Task RunAsync(int model, CancellationToken cancellationToken) => (await session.RunAsync(_loaded[model].Model, inputs, cancellationToken)).Dispose();

    /// <summary>
    /// Unloads every model loaded here, then any model of this run's aliases the slice still lists (a load that Ctrl-C
    /// cut short may still have finished on the agent). Never throws for one model: each failure is returned.
    /// </summary>
    public async Task<(IReadOnlyList<string> Unloaded, IReadOnlyList<string> Failures)> UnloadAllAsync(Func<CancellationToken, Task<SliceClient>> openSlice, CancellationToken cancellationToken)
    {
        var unloaded = new List<string>();
        var failures = new List<string>();
        foreach (LoadedModel model in _loaded)
        {
            try
            {
                await session.UnloadModelAsync(model.Model, cancellationToken);
                unloaded.Add(model.Alias);
            }
            catch (Grpc.Core.RpcException ex)
            {
                failures.Add($"{model.Alias}: {ex.StatusCode}: {ex.Status.Detail}");
            }
        }

        try
        {
            SliceClient slice = await openSlice(cancellationToken);
            ListModelsResponse listed = await slice.ListModelsAsync(cancellationToken);
            foreach (SliceModel left in listed.Models.Where(m => m.Alias.StartsWith(aliasPrefix, StringComparison.Ordinal)))
            {
                await slice.UnloadModelAsync(left.ModelId, cancellationToken);
                unloaded.Add(left.Alias);
            }
        }
        catch (Grpc.Core.RpcException ex)
        {
            failures.Add($"checking the slice for this run's models: {ex.StatusCode}: {ex.Status.Detail}");
        }

        return (unloaded.Distinct().ToArray(), failures);
    }

    /// <summary>One loaded model: its file's name, the alias it was loaded under, and the handle runs use.</summary>
    internal sealed record LoadedModel(string File, string Alias, RemoteModel Model);
}
