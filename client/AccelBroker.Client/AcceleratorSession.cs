using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace AccelBroker.Client;

/// <summary>
/// A client host's accelerator, opened by ordinal (as EI's <c>eia:0</c>). The broker is asked once where
/// the accelerator lives; models and tensors then go to its agent directly. Thread-safe: many concurrent
/// runs may share one session.
/// </summary>
/// <remarks>
/// <para>Failures surface as <see cref="RpcException"/> with the agent's or broker's status and message.</para>
/// <para>
/// The session survives a moved or lost agent: a call that finds the agent unreachable, or no longer holding the
/// accelerator, asks the broker where the accelerator is now (with backoff, within the call's
/// <see cref="AcceleratorSessionOptions.CallTimeout"/>), loads the session's models there with the options they were
/// loaded with, and is retried whole. <see cref="RemoteModel"/> handles stay valid. See
/// <see cref="AcceleratorSessionOptions.KeepModelBytesForRecovery"/> for what this keeps in memory.
/// </para>
/// </remarks>
public sealed partial class AcceleratorSession : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan FinalReportWait = TimeSpan.FromSeconds(3);

    private readonly AcceleratorSessionOptions _options;
    private readonly SessionUsage _usage = new();
    private readonly UsageReporter? _reporter;
    private readonly SliceTokenSource _token;
    private readonly string _brokerAddress;
    private readonly TimeProvider _time;
    private Placement _placement;

    private AcceleratorSession(AcceleratorSessionOptions options, string brokerAddress, Protocol.V1.Broker.BrokerClient broker, SliceTokenSource token)
    {
        _options = options;
        _brokerAddress = brokerAddress;
        _time = options.Time;
        _token = token;
        _placement = PlacementOf(token.Accelerator);
        if (options.UsageReportInterval > TimeSpan.Zero)
        {
            _reporter = new UsageReporter(broker, _usage, _placement.Info.Id, options.UsageReportInterval, options.CallTimeout);
        }
    }

    /// <summary>
    /// The accelerator this session runs on, as the broker last described it: after a recovery its
    /// <see cref="AcceleratorInfo.AgentAddress"/> names the agent that serves it now.
    /// </summary>
    public AcceleratorInfo Accelerator => CurrentPlacement().Info;

    /// <summary>Opens the accelerator named by <paramref name="options"/> (or the environment), blocking.</summary>
    /// <param name="options">Broker, host and ordinal; <see langword="null"/> uses <c>ACCEL_BROKER</c>, <c>ACCEL_HOST</c> and ordinal 0.</param>
    /// <returns>An open session.</returns>
    public static AcceleratorSession Open(AcceleratorSessionOptions? options = null) =>
        OpenAsync(options).GetAwaiter().GetResult();

    /// <summary>Opens the accelerator named by <paramref name="options"/> (or the environment).</summary>
    /// <param name="options">Broker, host and ordinal; <see langword="null"/> uses <c>ACCEL_BROKER</c>, <c>ACCEL_HOST</c> and ordinal 0.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>An open session.</returns>
    /// <exception cref="RpcException">NotFound when the host has no accelerator at that ordinal; Unavailable when the broker cannot be reached.</exception>
    public static async Task<AcceleratorSession> OpenAsync(AcceleratorSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AcceleratorSessionOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.UsageReportInterval, TimeSpan.Zero, nameof(options));
        string broker = options.ResolveBroker();
        string host = options.ResolveHost();

        // The broker is not on the data path: it is asked once here, then only to renew the slice token and take
        // usage reports, rare and small calls that the process's pooled channel to it serves for every session.
        var client = new Protocol.V1.Broker.BrokerClient(BrokerIntercepted(AgentChannels.Get(broker, options.ConnectTimeout, options.CaFile), options));
        var request = new ResolveAcceleratorRequest { Host = host, Ordinal = options.Ordinal };
        Func<CancellationToken, Task<ResolveAcceleratorResponse>> resolve = async ct =>
            await client.ResolveAcceleratorAsync(request, deadline: new CallBudget(options.Time, options.CallTimeout).GrpcDeadline, cancellationToken: ct);
        ResolveAcceleratorResponse resolved = await resolve(cancellationToken);

        var token = new SliceTokenSource(resolved, resolve, options.Time);
        return new AcceleratorSession(options, broker, client, token);
    }

    /// <summary>Uploads (unless the agent holds it) and loads a TorchScript file, blocking.</summary>
    /// <param name="path">Path of a TorchScript file saved by <c>torch.jit.save</c>.</param>
    /// <param name="options">Precision and warm-up.</param>
    /// <returns>A handle for <see cref="Run(RemoteModel, Tensor[])"/>.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Shipped before API tracking; the overloads differ in their first parameter's type, so no call is ambiguous.")]
    public RemoteModel LoadModel(string path, ModelLoadOptions? options = null) =>
        LoadModelAsync(path, options).GetAwaiter().GetResult();

    /// <summary>Uploads (unless the agent holds them) and loads TorchScript bytes, blocking.</summary>
    /// <param name="model">The bytes of a TorchScript file.</param>
    /// <param name="options">Precision and warm-up.</param>
    /// <returns>A handle for <see cref="Run(RemoteModel, Tensor[])"/>.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Shipped before API tracking; the overloads differ in their first parameter's type, so no call is ambiguous.")]
    public RemoteModel LoadModel(ReadOnlyMemory<byte> model, ModelLoadOptions? options = null) =>
        LoadModelAsync(model, options).GetAwaiter().GetResult();

    /// <summary>Uploads (unless the agent holds it) and loads a TorchScript file.</summary>
    /// <param name="path">Path of a TorchScript file saved by <c>torch.jit.save</c>.</param>
    /// <param name="options">Precision and warm-up.</param>
    /// <param name="cancellationToken">Cancels the upload and load.</param>
    /// <returns>A handle for <see cref="RunAsync"/>.</returns>
    /// <exception cref="RpcException">
    /// InvalidArgument when the bytes are not loadable TorchScript, with TorchScript's reason; PermissionDenied when the host's
    /// accelerator is pinned to other models (<see cref="FleetClient.SetAllowedModelsAsync"/>).
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Shipped before API tracking; the overloads differ in their first parameter's type, so no call is ambiguous.")]
    public async Task<RemoteModel> LoadModelAsync(string path, ModelLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        (string sha256, long length) = await ModelHashes.OfFileAsync(path, cancellationToken);
        var kept = new LoadedModel(sha256, length, options ?? new ModelLoadOptions(), Path.GetFullPath(path), bytes: null);
        return await LoadAsync(kept, (agent, deadline, ct) => ModelUploader.UploadFileAsync(agent, path, sha256, length, _options.Compression, deadline, ct), cancellationToken);
    }

    /// <summary>Uploads (unless the agent holds them) and loads TorchScript bytes.</summary>
    /// <param name="model">The bytes of a TorchScript file.</param>
    /// <param name="options">Precision and warm-up.</param>
    /// <param name="cancellationToken">Cancels the upload and load.</param>
    /// <returns>A handle for <see cref="RunAsync"/>.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Shipped before API tracking; the overloads differ in their first parameter's type, so no call is ambiguous.")]
    public Task<RemoteModel> LoadModelAsync(ReadOnlyMemory<byte> model, ModelLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        string sha256 = ModelHashes.Of(model.Span);
        var kept = new LoadedModel(sha256, model.Length, options ?? new ModelLoadOptions(), path: null, _options.KeepModelBytesForRecovery ? KeptBytes(sha256, model) : null);
        return LoadAsync(kept, (agent, deadline, ct) => ModelUploader.UploadBytesAsync(agent, model, sha256, _options.Compression, deadline, ct), cancellationToken);
    }

    /// <summary>Runs a loaded model once, blocking.</summary>
    /// <param name="model">A model from <see cref="LoadModel(string, ModelLoadOptions?)"/>.</param>
    /// <param name="inputs">The forward's arguments, in order.</param>
    /// <returns>The outputs in output order.</returns>
    public ModelOutput Run(RemoteModel model, params Tensor[] inputs) =>
        RunAsync(model, inputs).GetAwaiter().GetResult();

    /// <summary>Runs a loaded model once.</summary>
    /// <param name="model">A model from <see cref="LoadModelAsync(string, ModelLoadOptions?, CancellationToken)"/>.</param>
    /// <param name="inputs">The forward's arguments, in order.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The outputs in output order.</returns>
    /// <exception cref="RpcException">InvalidArgument when the model rejects the inputs (TorchScript's message); NotFound for an unknown model.</exception>
    public Task<ModelOutput> RunAsync(RemoteModel model, IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        long total = 0;
        foreach (Tensor input in inputs)
        {
            total += input.Data.Length;
        }

        return MeasuredAsync(model, inputs, streaming: total > WireLimits.UnaryPayloadBytes, cancellationToken);
    }

    /// <summary>Unloads a model from the accelerator; the session stops keeping what it needed to load it again elsewhere.</summary>
    /// <param name="model">The model to unload.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the agent has unloaded it.</returns>
    public async Task UnloadModelAsync(RemoteModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        _models.TryGetValue(model.ModelId, out LoadedModel? kept);
        await WithRecoveryAsync<bool>(
            async (placement, deadline, ct) =>
            {
                string modelId = model.ModelId;
                if (kept?.On is { } on)
                {
                    // Loaded on an agent the accelerator has left: nothing is loaded where it is now.
                    if (!ReferenceEquals(on.Placement, placement))
                    {
                        return false;
                    }

                    modelId = on.ModelId;
                }

                var request = new UnloadModelRequest { SliceId = placement.Info.Id, ModelId = modelId };
                await placement.Agent.UnloadModelAsync(request, deadline: deadline, cancellationToken: ct);
                return true;
            },
            cancellationToken);
        _models.TryRemove(model.ModelId, out _);
    }

    /// <summary>
    /// Sends the session's last usage report to the broker, waiting at most about two seconds (it never
    /// throws); agent channels are pooled for the process and stay open.
    /// </summary>
    public void Dispose()
    {
        if (_reporter is not null)
        {
            // Off this thread: a caller's synchronization context must not be able to deadlock the report.
            _ = Task.Run(async () => await _reporter.DisposeAsync()).Wait(FinalReportWait);
        }
    }

    /// <summary>Sends the session's last usage report to the broker, waiting at most about two seconds (it never throws).</summary>
    /// <returns>A task that completes when the report is sent or abandoned.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_reporter is not null)
        {
            await _reporter.DisposeAsync();
        }
    }

    // End to end, as the application sees it: everything from here to the outputs in hand.
    private async Task<ModelOutput> MeasuredAsync(RemoteModel model, IReadOnlyList<Tensor> inputs, bool streaming, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using Activity? activity = AcceleratorTracing.Source.StartActivity("accel.run", ActivityKind.Client);
        activity?.SetTag("accel.accelerator_id", Accelerator.Id);
        activity?.SetTag("accel.model_id", model.ModelId);
        activity?.SetTag("accel.streaming", streaming);
        try
        {
            ModelOutput output = await WithRecoveryAsync(
                async (placement, deadline, ct) =>
                {
                    string modelId = await ModelIdOnAsync(model, placement, deadline, ct);
                    return streaming
                        ? await StreamingRun.RunAsync(placement.Invoker, placement.Info.Id, modelId, _options.NativeOutputDtype, inputs, deadline, ct)
                        : await RunUnaryAsync(placement, modelId, inputs, deadline, ct);
                },
                cancellationToken);
            _usage.Succeeded(model.ModelId, Stopwatch.GetElapsedTime(started));
            return output;
        }
        catch (Exception) when (_usage.Failed(model.ModelId))
        {
            throw;
        }
        catch (Exception ex)
        {
            AcceleratorTracing.Failed(activity, ex);
            throw;
        }
    }

    private async Task<RemoteModel> LoadAsync(LoadedModel kept, Func<InferenceAgent.InferenceAgentClient, DateTime, CancellationToken, Task> upload, CancellationToken cancellationToken)
    {
        using Activity? activity = AcceleratorTracing.Source.StartActivity("accel.load_model", ActivityKind.Client);
        activity?.SetTag("accel.accelerator_id", Accelerator.Id);
        activity?.SetTag("accel.model_sha256", kept.Sha256);
        try
        {
            (RemoteModel loaded, Placement placement) = await WithRecoveryAsync(
                async (placement, deadline, ct) => (await LoadCoreAsync(placement, kept, upload, deadline, ct), placement), cancellationToken);
            kept.On = new ModelOnAgent(placement, loaded.ModelId);
            _models[loaded.ModelId] = kept;
            return loaded;
        }
        catch (Exception ex)
        {
            AcceleratorTracing.Failed(activity, ex);
            throw;
        }
    }

    // Upload code (ModelUploader) is shared with agent-local benchmarks, which reach an agent without a slice.
    private static async Task<RemoteModel> LoadCoreAsync(
        Placement placement, LoadedModel kept, Func<InferenceAgent.InferenceAgentClient, DateTime, CancellationToken, Task> upload, DateTime deadline, CancellationToken cancellationToken)
    {
        HasModelResponse held = await placement.Agent.HasModelAsync(new HasModelRequest { Sha256 = kept.Sha256 }, deadline: deadline, cancellationToken: cancellationToken);
        bool uploaded = false;
        if (!held.Held)
        {
            await upload(placement.Agent, deadline, cancellationToken);
            uploaded = true;
        }

        LoadModelResponse response = await placement.Agent.LoadModelAsync(ModelLoads.Request(placement.Info.Id, kept.Sha256, kept.Options), deadline: deadline, cancellationToken: cancellationToken);
        return ModelLoads.Loaded(response, kept.Sha256, kept.Length, kept.Options, uploaded);
    }

    private async Task<ModelOutput> RunUnaryAsync(Placement placement, string modelId, IReadOnlyList<Tensor> inputs, DateTime deadline, CancellationToken cancellationToken)
    {
        var request = new RunRequest
        {
            SliceId = placement.Info.Id,
            ModelId = modelId,
            NativeOutputDtype = _options.NativeOutputDtype,
            AcceptCompression = _options.Compression,
        };
        foreach (Tensor input in inputs)
        {
            request.Inputs.Add(WireConversion.ToProto(input, _options.Compression));
        }

        RunResponse response = await placement.Invoker.AsyncUnaryCall(PooledAgentMethods.Run, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken), request);
        var outputs = new Tensor[response.Outputs.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = WireConversion.FromProto(response.Outputs[i]);
        }

        return new ModelOutput(WireConversion.FromWire(response.Kind), outputs, response.Device, WireConversion.FromWire(response.Timing), PooledMarshallers.PooledOf(response));
    }

    // The caller's interceptors see calls as the session makes them, and errors as the session reports them; the
    // slice token is added last, next to the channel, so no interceptor of the caller's sees it.
    private static CallInvoker Intercepted(GrpcChannel channel, AcceleratorSessionOptions options, SliceTokenSource token) =>
        channel.Intercept(new SliceTokenCredential(token)).Intercept(ConnectionLossInterceptor.Instance).Intercept([.. options.Interceptors]);

    // The credential goes to the broker alone: an agent must never learn a host credential or an operator key.
    private static CallInvoker BrokerIntercepted(GrpcChannel channel, AcceleratorSessionOptions options) =>
        channel.Intercept(ConnectionLossInterceptor.Instance).Intercept(BearerCredential.Around(options.Interceptors, options.ResolveCredential()));
}
