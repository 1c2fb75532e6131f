using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace AccelBroker.Agent.Services;

/// <summary>The data path: model upload and load, and inference, called by clients directly.</summary>
internal sealed class InferenceAgentService : InferenceAgent.InferenceAgentBase
{
    private readonly ModelStore _store;
    private readonly SliceRegistry _slices;
    private readonly ModelLoader _loader;
    private readonly InferenceRunner _runner;
    private readonly AgentIdentity _identity;
    private readonly AgentOptions _options;
    private readonly ILogger<InferenceAgentService> _logger;
    private readonly InferenceMetering _metering;

    public InferenceAgentService(ModelStore store, SliceRegistry slices, ModelLoader loader, InferenceRunner runner, AgentIdentity identity, AgentOptions options, ILogger<InferenceAgentService> logger, InferenceMetering metering)
    {
        _metering = metering;
        _store = store;
        _slices = slices;
        _loader = loader;
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
            else if (chunk.Compression != Compression.None)
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
        _loader.LoadAsync(_slices.Get(request.SliceId), request, context.CancellationToken);

    public override async Task<UnloadModelResponse> UnloadModel(UnloadModelRequest request, ServerCallContext context)
    {
        await _loader.UnloadAsync(_slices.Get(request.SliceId), request.ModelId, context.CancellationToken);
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
        response.Models.AddRange(slice.Catalog.Values.OrderBy(e => e.ModelId, StringComparer.Ordinal).Select(e => e.ToProto()));
        return Task.FromResult(response);
    }

    // A batching model merges this run with concurrent ones; fp16/bf16 runs that want their native output dtype
    // run alone, since a batch's outputs are converted once for all.
    private Task<ExecutionResult> ExecuteAsync(AcceleratorSlice slice, LoadedModel model, List<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, CancellationToken cancellationToken) =>
        model.Batcher is { } batcher && (!nativeOutputDtype || model.CastType is null)
            ? batcher.RunAsync(inputs, deadline, cancellationToken)
            : _runner.RunAsync(model, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype, deadline, cancellationToken);

    public override async Task<RunResponse> Run(RunRequest request, ServerCallContext context)
    {
        using Activity? activity = AgentTracing.StartRun(context, request.SliceId, request.ModelId, streaming: false);
        try
        {
            return await RunCoreAsync(request, context, activity);
        }
        catch (Exception ex)
        {
            AgentTracing.Failed(activity, ex);
            throw;
        }
    }

    private async Task<RunResponse> RunCoreAsync(RunRequest request, ServerCallContext context, Activity? activity)
    {
        AcceleratorSlice slice = _slices.Get(request.SliceId);
        LoadedModel model = await _loader.AcquireAsync(slice, request.ModelId, context.CancellationToken);
        bool ran = false;
        try
        {
            List<WireTensor> inputs = InputDecoder.Decode(request.Inputs, _options.MaxRequestBytes);
            ExecutionResult result = await ExecuteAsync(slice, model, inputs, request.NativeOutputDtype, context.Deadline, context.CancellationToken);
            ran = true;
            _metering.Succeeded(slice, request.ModelId, result.Timing);
            AgentTracing.Ran(activity, result.Timing);
            var response = new RunResponse { Kind = result.Kind, Timing = result.Timing, Device = _runner.Device.Label };
            foreach (WireTensor output in result.Outputs)
            {
                response.Outputs.Add(Encode(output, request.AcceptCompression, includeData: true));
            }

            return response;
        }
        catch (Exception) when (!ran && _metering.Failed(slice, request.ModelId))
        {
            throw;
        }
        finally
        {
            model.Release();
        }
    }

    public override async Task RunStream(IAsyncStreamReader<RunStreamRequest> requestStream, IServerStreamWriter<RunStreamResponse> responseStream, ServerCallContext context)
    {
        CancellationToken cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.KindCase != RunStreamRequest.KindOneofCase.Header)
        {
            throw DomainException.Invalid("the first message of a streaming run must be the header");
        }

        RunStreamHeader header = requestStream.Current.Header;
        using Activity? activity = AgentTracing.StartRun(context, header.SliceId, header.ModelId, streaming: true);
        try
        {
            await RunStreamCoreAsync(header, requestStream, responseStream, context, activity);
        }
        catch (Exception ex)
        {
            AgentTracing.Failed(activity, ex);
            throw;
        }
    }

    private async Task RunStreamCoreAsync(RunStreamHeader header, IAsyncStreamReader<RunStreamRequest> requestStream, IServerStreamWriter<RunStreamResponse> responseStream, ServerCallContext context, Activity? activity)
    {
        CancellationToken cancellationToken = context.CancellationToken;
        AcceleratorSlice slice = _slices.Get(header.SliceId);
        LoadedModel model = await _loader.AcquireAsync(slice, header.ModelId, cancellationToken);
        bool ran = false;
        try
        {
            List<WireTensor> inputs = await ReceiveInputsAsync(header, requestStream, cancellationToken);
            ExecutionResult result = await ExecuteAsync(slice, model, inputs, header.NativeOutputDtype, context.Deadline, cancellationToken);
            ran = true;
            _metering.Succeeded(slice, header.ModelId, result.Timing);
            AgentTracing.Ran(activity, result.Timing);
            var responseHeader = new RunStreamResponseHeader { Kind = result.Kind, Timing = result.Timing, Device = _runner.Device.Label };
            foreach (WireTensor output in result.Outputs)
            {
                responseHeader.Outputs.Add(Encode(output, compress: false, includeData: false));
            }

            await responseStream.WriteAsync(new RunStreamResponse { Header = responseHeader }, cancellationToken);
            foreach (WireTensor output in result.Outputs)
            {
                // Each write serializes before it completes, so slices of the output array can be wrapped without copying.
                for (int offset = 0; offset < output.Data.Length; offset += WireLimits.StreamChunkBytes)
                {
                    int length = Math.Min(WireLimits.StreamChunkBytes, output.Data.Length - offset);
                    var chunk = new RunStreamResponse { Chunk = UnsafeByteOperations.UnsafeWrap(output.Data.Slice(offset, length)) };
                    await responseStream.WriteAsync(chunk, cancellationToken);
                }
            }
        }
        // The execution's outcome: a run that completed counts as done even if its outputs could not be delivered.
        catch (Exception) when (!ran && _metering.Failed(slice, header.ModelId))
        {
            throw;
        }
        finally
        {
            model.Release();
        }
    }

    private async Task<List<WireTensor>> ReceiveInputsAsync(RunStreamHeader header, IAsyncStreamReader<RunStreamRequest> requestStream, CancellationToken cancellationToken)
    {
        long total = 0;
        for (int i = 0; i < header.Inputs.Count; i++)
        {
            TensorProto spec = header.Inputs[i];
            if (spec.Compression != Compression.None)
            {
                throw DomainException.Invalid($"input {i}: compression is not supported on the streaming call");
            }

            long expected = InputDecoder.ExpectedBytes(spec, i);
            if (spec.RawLength != expected)
            {
                throw DomainException.Invalid($"input {i}: raw_length {spec.RawLength} but {InputDecoder.Describe(spec)} needs {expected} bytes");
            }

            total += expected;
            if (total > _options.MaxRequestBytes)
            {
                throw DomainException.Exhausted($"inputs exceed this agent's limit of {_options.MaxRequestBytes} bytes per run");
            }
        }

        var assembler = new ChunkAssembler(header.Inputs.Select(spec => spec.RawLength));
        while (await requestStream.MoveNext(cancellationToken))
        {
            if (requestStream.Current.KindCase != RunStreamRequest.KindOneofCase.Chunk)
            {
                throw DomainException.Invalid("only data chunks may follow the streaming run header");
            }

            if (!assembler.TryAppend(requestStream.Current.Chunk.Span))
            {
                throw DomainException.Invalid($"more input bytes than the header announced ({total})");
            }
        }

        if (assembler.Received != total)
        {
            throw DomainException.Invalid($"input stream ended after {assembler.Received} of {total} bytes");
        }

        return header.Inputs.Select((spec, i) => new WireTensor(spec.Dtype, [.. spec.Shape], assembler.Buffers[i])).ToList();
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

    private static TensorProto Encode(WireTensor tensor, bool compress, bool includeData) =>
        TensorProtos.Create(tensor.DataType, tensor.Shape, tensor.Data, compress, includeData);
}
