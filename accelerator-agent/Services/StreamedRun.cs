using AccelBroker.Agent.Execution;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// How a streaming run's inputs arrive (a header with the run's request, then raw chunks) and its outputs leave
/// (a header with the run's response, then raw chunks).
/// </summary>
internal static class StreamedRun
{
    /// <summary>
    /// Reads the chunks after the header into one buffer per input, checked against the request's inputs; each
    /// chunk must arrive within <paramref name="idle"/>'s timeout.
    /// </summary>
    /// <remarks>The inputs are arrays of <paramref name="owner"/>; each chunk's own array goes back once copied.</remarks>
    public static async ValueTask<List<WireTensor>> ReceiveInputsAsync(
        RunRequest request, IAsyncStreamReader<RunStreamRequest> requestStream, StreamIdleWatch idle, long maxRequestBytes, PooledBuffers owner)
    {
        long total = 0;
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            TensorProto spec = request.Inputs[i];
            if (spec.Compression is not (Compression.None or Compression.Unspecified))
            {
                throw DomainException.Invalid($"input {i}: compression is not supported on the streaming call");
            }

            long expected = InputDecoder.ExpectedBytes(spec, i);
            if (spec.RawLength != expected)
            {
                throw DomainException.Invalid($"input {i}: raw_length {spec.RawLength} but {InputDecoder.Describe(spec)} needs {expected} bytes");
            }

            InputDecoder.CountAgainstLimits(spec, i, expected, ref total, maxRequestBytes);
        }

        var assembler = new ChunkAssembler(request.Inputs.Select(spec => spec.RawLength), owner);
        while (await idle.MoveNextAsync(requestStream))
        {
            RunStreamRequest message = requestStream.Current;
            if (message.KindCase != RunStreamRequest.KindOneofCase.Chunk)
            {
                throw DomainException.Invalid("only data chunks may follow the streaming run header");
            }

            bool appended = assembler.TryAppend(message.Chunk.Span);
            PooledMarshallers.PooledOf(message)?.Release();
            if (!appended)
            {
                throw DomainException.Invalid($"more input bytes than the header announced ({total})");
            }
        }

        if (assembler.Received != total)
        {
            throw DomainException.Invalid($"input stream ended after {assembler.Received} of {total} bytes");
        }

        return request.Inputs.Select((spec, i) => new WireTensor(spec.Dtype, [.. spec.Shape], assembler.Buffers[i])).ToList();
    }

    /// <summary>
    /// Writes the header (<paramref name="response"/>: kind, output shapes, timing, no data), then each output's
    /// bytes in chunks.
    /// </summary>
    public static async Task<bool> WriteOutputsAsync(
        ExecutionResult result, RunResponse response, IServerStreamWriter<RunStreamResponse> responseStream, CancellationToken cancellationToken)
    {
        var header = new RunStreamResponseHeader { Response = response };
        await responseStream.WriteAsync(new RunStreamResponse { Header = header }, cancellationToken);
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

        // Every chunk was serialized before its write completed: the outputs' arrays are free. After a failed write
        // they are left to the GC instead.
        result.Buffers?.Release();
        return true;
    }
}
