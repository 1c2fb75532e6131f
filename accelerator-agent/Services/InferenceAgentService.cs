using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace AccelBroker.Agent.Services;

/// <summary>The data path: model upload and load, and inference, called by clients directly.</summary>
internal sealed class InferenceAgentService : InferenceAgent.InferenceAgentBase
{
    private readonly ModelStore _store;
    private readonly SliceRegistry _slices;
    private readonly ModelResidency _residency;
    private readonly RunPath _runs;
    private readonly InferenceRunner _runner;
    private readonly AgentIdentity _identity;
    private readonly AgentOptions _options;
    private readonly ILogger<InferenceAgentService> _logger;

    public InferenceAgentService(ModelStore store, SliceRegistry slices, ModelResidency residency, RunPath runs, InferenceRunner runner, AgentIdentity identity, AgentOptions options, ILogger<InferenceAgentService> logger)
    {
        _store = store;
        _slices = slices;
        _residency = residency;
        _runs = runs;
        _runner = runner;
        _identity = identity;
        _options = options;
        _logger = logger;
    }

    public override Task<HasModelResponse> HasModel(HasModelRequest request, ServerCallContext context)
    {
        string sha256 = request.Sha256.ToLowerInvariant();
        bool held = _store.TryGetLength(sha256, out long length);
        return Task.FromResult(new HasModelResponse { Held = held, Length = held ? length : 0 });
    }

    public override async Task<UploadModelResponse> UploadModel(IAsyncStreamReader<UploadModelRequest> requestStream, ServerCallContext context)
    {
        try
        {
            return await ReceiveUploadAsync(requestStream, context.CancellationToken);
        }
        catch (DomainException ex)
        {
            AgentLog.UploadRejected(_logger, ex.Message);
            throw;
        }
    }

    private async Task<UploadModelResponse> ReceiveUploadAsync(IAsyncStreamReader<UploadModelRequest> requestStream, CancellationToken cancellationToken)
    {
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.KindCase != UploadModelRequest.KindOneofCase.Header)
        {
            throw DomainException.Invalid("the first upload message must be the header (sha256, length, compression)");
        }

        UploadModelHeader header = requestStream.Current.Header;
        string sha256 = header.Sha256.ToLowerInvariant();
        if (!ModelStore.IsSha256(sha256))
        {
            throw DomainException.Invalid($"sha256 must be 64 hex digits, got '{header.Sha256}'");
        }

        if (header.Length <= 0 || header.Length > _options.MaxModelBytes)
        {
            throw DomainException.Invalid($"model length must be between 1 and {_options.MaxModelBytes} bytes, got {header.Length}");
        }

        // Disposing an upload that did not complete removes its partial file: nothing half-stored remains.
        using ModelUpload upload = _store.BeginUpload(sha256, header.Length);
        while (await requestStream.MoveNext(cancellationToken))
        {
            UploadModelRequest message = requestStream.Current;
            if (message.KindCase != UploadModelRequest.KindOneofCase.Chunk)
            {
                throw DomainException.Invalid("only chunks may follow the upload header");
            }

            ModelChunk chunk = message.Chunk;
            if (chunk.RawLength <= 0 || chunk.RawLength > WireLimits.ModelChunkBytes)
            {
                throw DomainException.Invalid($"chunk raw_length must be between 1 and {WireLimits.ModelChunkBytes} bytes, got {chunk.RawLength}");
            }

            ReadOnlyMemory<byte> data = chunk.Data.Memory;
            if (chunk.Compression == Compression.Lz4)
            {
                try
                {
                    data = Lz4Block.Decompress(data.Span, chunk.RawLength);
                }
                catch (InvalidDataException ex)
                {
                    throw DomainException.Invalid($"chunk at byte {upload.Received}: {ex.Message}");
                }
            }
            else if (chunk.Compression is not (Compression.None or Compression.Unspecified))
            {
                throw DomainException.Invalid($"unknown chunk compression {(int)chunk.Compression}");
            }

            if (data.Length != chunk.RawLength)
            {
                throw DomainException.Invalid($"chunk at byte {upload.Received} has {data.Length} bytes but says {chunk.RawLength}");
            }

            await upload.AppendAsync(data, cancellationToken);
        }

        bool stored = await upload.CompleteAsync(cancellationToken);
        AgentLog.ModelStored(_logger, sha256, header.Length);
        return new UploadModelResponse { Sha256 = sha256, Length = header.Length, Stored = stored };
    }

    public override Task<LoadModelResponse> LoadModel(LoadModelRequest request, ServerCallContext context) =>
        _residency.LoadAsync(_slices.Get(request.SliceId), request, context.CancellationToken);

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
        _runs.RunAsync(
            request,
            streaming: false,
            context,
            _ => ValueTask.FromResult(InputDecoder.Decode(request.Inputs, _options.MaxRequestBytes)),
            result => Task.FromResult(_runs.Response(result, includeData: true, request.AcceptCompression)));

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
        await _runs.RunAsync(
            request,
            streaming: true,
            context,
            _ => StreamedRun.ReceiveInputsAsync(request, requestStream, idle, _options.MaxRequestBytes),
            result => StreamedRun.WriteOutputsAsync(result, _runs.Response(result, includeData: false, compress: false), responseStream, context.CancellationToken));
    }

    public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Payload = request.Payload });

    public override async Task EchoStream(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoResponse> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(new EchoResponse { Payload = requestStream.Current.Payload }, context.CancellationToken);
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

    // Resolved per call rather than injected, so this verb adds no constructor dependency to the data path.
    public override Task<BenchmarkLocalResponse> BenchmarkLocal(BenchmarkLocalRequest request, ServerCallContext context) =>
        context.GetHttpContext().RequestServices.GetRequiredService<LocalBenchmark>().RunAsync(request, context.Deadline, context.CancellationToken);
}
