using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Client;

/// <summary>
/// An accelerator's slice on its agent, for operators: the models it holds and their memory, and loading or
/// unloading copies by hand. Applications run models through <see cref="AcceleratorSession"/> instead. Thread-safe.
/// </summary>
/// <remarks>Failures surface as <see cref="RpcException"/> with the agent's status and message.</remarks>
public sealed class SliceClient
{
    /// <summary>Creates a client of <paramref name="accelerator"/>'s slice, on the agent the broker placed it on.</summary>
    /// <param name="accelerator">The accelerator as the broker describes it (<see cref="FleetClient.ResolveAcceleratorAsync"/>).</param>
    /// <param name="options">Timeouts and interceptors for the agent; <see langword="null"/> for the defaults.</param>
    public SliceClient(Accelerator accelerator, AgentClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        Agent = new AgentClient(accelerator.AgentAddress, options);
    }

    /// <summary>The accelerator whose slice this is, as the broker described it when the client was made.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The slice's id on its agent (the accelerator id).</summary>
    public string SliceId => Accelerator.Id;

    /// <summary>The agent that holds the slice: its model store is where <see cref="LoadModelAsync"/> loads from.</summary>
    public AgentClient Agent { get; }

    /// <summary>
    /// Lists the models the slice knows, resident or evicted, what each is charged, and the slice's budget, eviction
    /// threshold, charge, loads, evictions and device, as the agent sees them now.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The agent's answer.</returns>
    /// <exception cref="RpcException">NotFound when the agent holds no such slice (it was detached).</exception>
    public async Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken = default) =>
        await Agent.Raw.ListModelsAsync(new ListModelsRequest { SliceId = SliceId }, deadline: Agent.CallDeadline(), cancellationToken: cancellationToken);

    /// <summary>
    /// Loads bytes the agent holds onto the slice, with the warm-up, batching and alias of <paramref name="options"/>
    /// (an alias loads a distinct copy, charged separately). A load that would pass the slice's eviction threshold
    /// first evicts its least recently used idle models (<see cref="RemoteModel.EvictedModelIds"/>).
    /// </summary>
    /// <param name="model">Bytes the agent holds (<see cref="AgentClient.EnsureModelHeldAsync"/> on <see cref="Agent"/>).</param>
    /// <param name="options">Precision, warm-up, batching and alias; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call (the agent may still finish the load).</param>
    /// <returns>The loaded model, its charge and the slice's charge after it.</returns>
    /// <exception cref="RpcException">
    /// ResourceExhausted when the model cannot fit even after evicting (naming the bytes needed and available);
    /// InvalidArgument for bytes that are not TorchScript or bad alias or batching options; NotFound for bytes or a slice the agent does not hold.
    /// </exception>
    public async Task<RemoteModel> LoadModelAsync(HeldModel model, ModelLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ModelLoadOptions();
        LoadModelResponse response = await Agent.Raw.LoadModelAsync(ModelLoads.Request(SliceId, model.Sha256, options), deadline: Agent.TransferDeadline(), cancellationToken: cancellationToken);
        return ModelLoads.Loaded(response, model.Sha256, model.Length, options, uploaded: false);
    }

    /// <summary>Unloads a model from the slice; the agent keeps its bytes in its store.</summary>
    /// <param name="modelId">The model's id (<see cref="RemoteModel.ModelId"/>, or as listed).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the agent has unloaded it.</returns>
    /// <exception cref="RpcException">NotFound when the slice holds no such model.</exception>
    public async Task UnloadModelAsync(string modelId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        await Agent.Raw.UnloadModelAsync(new UnloadModelRequest { SliceId = SliceId, ModelId = modelId }, deadline: Agent.CallDeadline(), cancellationToken: cancellationToken);
    }
}
