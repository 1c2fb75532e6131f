using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// One run over the agent's streaming call, for inputs past the unary limit: a header (the run's request without the
/// inputs' bytes), the bytes in chunks, then the outputs the same way back.
/// </summary>
internal static class StreamingRun
{
    public static async Task<ModelOutput> RunAsync(
        CallInvoker agent, string sliceId, string modelId, bool nativeOutputDtype, IReadOnlyList<Tensor> inputs, DateTime deadline, CancellationToken cancellationToken)
    {
        using AsyncDuplexStreamingCall<RunStreamRequest, RunStreamResponse> call =
            agent.AsyncDuplexStreamingCall(PooledAgentMethods.RunStream, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
        var request = new RunRequest
        {
            SliceId = sliceId,
            ModelId = modelId,
            NativeOutputDtype = nativeOutputDtype,
        };
        foreach (Tensor input in inputs)
        {
            request.Inputs.Add(WireConversion.ToProto(input, compress: false, includeData: false));
        }

        try
        {
            await SendAsync(call.RequestStream, request, inputs, cancellationToken);
        }
        catch (Exception written) when (EarlyServerStatus.MayHide(written, cancellationToken))
        {
            throw await EarlyServerStatus.ExplainAsync(() => call.ResponseStream.MoveNext(CancellationToken.None), written);
        }

        return await ReceiveAsync(call.ResponseStream, cancellationToken);
    }

    private static async Task SendAsync(IClientStreamWriter<RunStreamRequest> requests, RunRequest header, IReadOnlyList<Tensor> inputs, CancellationToken cancellationToken)
    {
        await requests.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = header } }, cancellationToken);
        foreach (Tensor input in inputs)
        {
            ReadOnlyMemory<byte> data = input.Data;
            for (int offset = 0; offset < data.Length; offset += WireLimits.StreamChunkBytes)
            {
                ReadOnlyMemory<byte> slice = data.Slice(offset, Math.Min(WireLimits.StreamChunkBytes, data.Length - offset));
                await requests.WriteAsync(new RunStreamRequest { Chunk = UnsafeByteOperations.UnsafeWrap(slice) }, cancellationToken);
            }
        }

        await requests.CompleteAsync();
    }

    private static async Task<ModelOutput> ReceiveAsync(IAsyncStreamReader<RunStreamResponse> responses, CancellationToken cancellationToken)
    {
        if (!await responses.MoveNext(cancellationToken) || responses.Current.KindCase != RunStreamResponse.KindOneofCase.Header)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the agent's streaming response did not start with a header"));
        }

        RunResponse header = responses.Current.Header.Response ?? new RunResponse();
        // The outputs go to the caller in arrays its ModelOutput gives back; each chunk's array goes back once copied.
        var buffers = new PooledBuffers(PayloadPool.Shared);
        var assembler = new ChunkAssembler(header.Outputs.Select(spec => spec.RawLength), buffers);
        while (await responses.MoveNext(cancellationToken))
        {
            RunStreamResponse message = responses.Current;
            bool appended = assembler.TryAppend(message.Chunk.Span);
            PooledMarshallers.PooledOf(message)?.Release();
            if (!appended)
            {
                throw new RpcException(new Status(StatusCode.Internal, "the agent sent more output bytes than its header announced"));
            }
        }

        if (assembler.Received != assembler.Expected)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, $"the agent's output stream ended after {assembler.Received} of {assembler.Expected} bytes"));
        }

        IReadOnlyList<ReadOnlyMemory<byte>> data = assembler.Buffers;
        var outputs = new Tensor[data.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            TensorProto spec = header.Outputs[i];
            outputs[i] = new Tensor(WireConversion.FromWire(spec.Dtype), spec.Shape.ToArray(), data[i]);
        }

        return new ModelOutput(WireConversion.FromWire(header.Kind), outputs, header.Device, WireConversion.FromWire(header.Timing), buffers);
    }
}
