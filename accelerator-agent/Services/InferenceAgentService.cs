using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Security;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;
using TorchSharp;

namespace AccelBroker.Agent.Services;

/// <summary>The data path: model upload and load, and inference, called by clients directly.</summary>
internal sealed class InferenceAgentService : InferenceAgent.InferenceAgentBase
{
    private readonly ModelStore _store;
    private readonly UploadReceiver _uploads;
    private readonly SliceRegistry _slices;
    private readonly ModelResidency _residency;
    private readonly RunPath _runs;
    private readonly InferenceRunner _runner;
    private readonly AgentIdentity _identity;
    private readonly AgentOptions _options;

    public InferenceAgentService(ModelStore store, UploadReceiver uploads, SliceRegistry slices, ModelResidency residency, RunPath runs, InferenceRunner runner, AgentIdentity identity, AgentOptions options)
    {
        _store = store;
        _uploads = uploads;
        _slices = slices;
        _residency = residency;
        _runs = runs;
        _runner = runner;
        _identity = identity;
        _options = options;
    }

    public override Task<HasModelResponse> HasModel(HasModelRequest request, ServerCallContext context)
    {
        string sha256 = request.Sha256.ToLowerInvariant();
        // A slice sees only the bytes that came through it: the store is shared, what tenants uploaded is not.
        bool held = _store.TryGetLength(sha256, out long length) && (SliceOf(context) is not { } slice || slice.KnowsBytes(sha256));
        return Task.FromResult(new HasModelResponse { Held = held, Length = held ? length : 0 });
    }

    public override async Task<UploadModelResponse> UploadModel(IAsyncStreamReader<UploadModelRequest> requestStream, ServerCallContext context)
    {
        AcceleratorSlice? slice = SliceOf(context);
        UploadModelResponse response = await _uploads.ReceiveAsync(requestStream, context.CancellationToken);
        if (slice is not null)
        {
            // Whether another tenant sent the same bytes first stays unknown: through this slice they are new.
            response.Stored = !slice.KnowsBytes(response.Sha256);
            slice.Uploaded(response.Sha256);
        }

        return response;
    }

    public override Task<LoadModelResponse> LoadModel(LoadModelRequest request, ServerCallContext context)
    {
        AcceleratorSlice slice = _slices.Get(request.SliceId);
        string sha256 = request.Sha256.ToLowerInvariant();
        // The interceptor has checked that a slice token's slice is this request's.
        if (AgentAuthorization.GrantOf(context) is { Scope: AccessScope.Slice } && ModelStore.IsSha256(sha256) && !slice.KnowsBytes(sha256))
        {
            throw DomainException.NotFound($"model sha256={sha256} was not uploaded through slice '{slice.Id}'; upload it first");
        }

        return _residency.LoadAsync(slice, request, context.CancellationToken);
    }

    public override async Task<UnloadModelResponse> UnloadModel(UnloadModelRequest request, ServerCallContext context)
    {
        await _residency.UnloadAsync(_slices.Get(request.SliceId), request.ModelId, context.CancellationToken);
        return new UnloadModelResponse();
    }

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context)
    {
        AcceleratorSlice slice = _slices.Get(request.SliceId);
        var response = new ListModelsResponse
        {
            SliceId = slice.Id,
            BudgetBytes = slice.BudgetBytes,
            ThresholdBytes = slice.ThresholdBytes,
            ChargedBytes = slice.ChargedBytes,
            Loads = slice.Loads,
            Evictions = slice.Evictions,
            Device = _runner.Device.Label,
        };
        response.Models.AddRange(slice.ModelsById().Select(e => e.ToProto()));
        return Task.FromResult(response);
    }

    public override Task<RunResponse> Run(RunRequest request, ServerCallContext context) =>
        ReleasingInputsAsync(
            _runs.RunAsync(
                request,
                streaming: false,
                context,
                _ => ValueTask.FromResult(InputDecoder.Decode(request.Inputs, _options.MaxRequestBytes)),
                result => Task.FromResult(PooledMarshallers.ReleaseAfterSend(_runs.Response(result, includeData: true, request.AcceptCompression), result.Buffers))),
            PooledMarshallers.PooledOf(request),
            context.CancellationToken);

    public override async Task RunStream(IAsyncStreamReader<RunStreamRequest> requestStream, IServerStreamWriter<RunStreamResponse> responseStream, ServerCallContext context)
    {
        // Resolved per call, as BenchmarkLocal's service is, so the idle limit adds no constructor dependency here.
        TimeProvider time = context.GetHttpContext().RequestServices.GetRequiredService<TimeProvider>();
        using var idle = new StreamIdleWatch(_options.StreamIdleTimeout, time, context.CancellationToken);
        if (!await idle.MoveNextAsync(requestStream) || requestStream.Current.KindCase != RunStreamRequest.KindOneofCase.Header)
        {
            throw DomainException.Invalid("the first message of a streaming run must be the header");
        }

        // A header without its request names no slice: refused by the run path as an empty run request would be.
        RunRequest request = requestStream.Current.Header.Request ?? new RunRequest();
        var inputs = new PooledBuffers(PayloadPool.Shared);
        await ReleasingInputsAsync(
            _runs.RunAsync(
                request,
                streaming: true,
                context,
                _ => StreamedRun.ReceiveInputsAsync(request, requestStream, idle, _options.MaxRequestBytes, inputs),
                result => StreamedRun.WriteOutputsAsync(result, _runs.Response(result, includeData: false, compress: false), responseStream, context.CancellationToken)),
            inputs,
            context.CancellationToken);
    }

    public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(PooledMarshallers.ReleaseAfterSend(new EchoResponse { Payload = request.Payload }, PooledMarshallers.PooledOf(request)));

    public override async Task EchoStream(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            EchoRequest request = requestStream.Current;
            await responseStream.WriteAsync(
                PooledMarshallers.ReleaseAfterSend(new EchoResponse { Payload = request.Payload }, PooledMarshallers.PooledOf(request)),
                context.CancellationToken);
        }
    }

    public override Task<GetAgentInfoResponse> GetAgentInfo(GetAgentInfoRequest request, ServerCallContext context)
    {
        var response = new GetAgentInfoResponse
        {
            AgentId = _identity.AgentId,
            Device = _identity.DeviceInfo,
            Capacity = _identity.Capacity,
            Version = AgentIdentity.Version,
            TorchVersion = torch.__version__,
        };
        response.Slices.AddRange(_slices.All.Select(s => s.Assignment));
        return Task.FromResult(response);
    }

    // The slice of a slice token (the authorization interceptor checked it is held); null for an operator token.
    private AcceleratorSlice? SliceOf(ServerCallContext context) =>
        AgentAuthorization.GrantOf(context) is { Scope: AccessScope.Slice, SliceId: { } sliceId } ? _slices.Get(sliceId) : null;

    // Resolved per call rather than injected, so this verb adds no constructor dependency to the data path.
    public override Task<BenchmarkLocalResponse> BenchmarkLocal(BenchmarkLocalRequest request, ServerCallContext context) =>
        context.GetHttpContext().RequestServices.GetRequiredService<LocalBenchmark>().RunAsync(request, context.Deadline, context.CancellationToken);

    // The inputs are in the worker's lane once a run is over, and their arrays go back to the pool. A cancelled run
    // keeps them out of it: a batch that formed before the cancellation may still be copying them.
    private static async Task<T> ReleasingInputsAsync<T>(Task<T> run, PooledBuffers? inputs, CancellationToken cancelled)
    {
        T result;
        try
        {
            result = await run;
        }
        catch (Exception) when (!cancelled.IsCancellationRequested)
        {
            inputs?.Release();
            throw;
        }

        inputs?.Release();
        return result;
    }
}
