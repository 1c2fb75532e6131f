using AccelBroker.Agent.Execution;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>How a streaming run's inputs arrive (a header, then raw chunks) and its outputs leave (the same way).</summary>
internal static class StreamedRun
{
    /// <summary>Reads the chunks after <paramref name="header"/> into one buffer per input, checked against the header.</summary>
    public static async ValueTask<List<WireTensor>> ReceiveInputsAsync(
        RunStreamHeader header, IAsyncStreamReader<RunStreamRequest> requestStream, long maxRequestBytes, CancellationToken cancellationToken)
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
            if (total > maxRequestBytes)
            {
                throw DomainException.Exhausted($"inputs exceed this agent's limit of {maxRequestBytes} bytes per run");
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

    /// <summary>Writes the response header (kinds, shapes, timing), then each output's bytes in chunks.</summary>
    public static async Task<bool> WriteOutputsAsync(
        ExecutionResult result, string device, IServerStreamWriter<RunStreamResponse> responseStream, CancellationToken cancellationToken)
    {
        var header = new RunStreamResponseHeader { Kind = result.Kind, Timing = result.Timing, Device = device };
        foreach (WireTensor output in result.Outputs)
        {
            header.Outputs.Add(TensorProtos.Create(output.DataType, output.Shape, output.Data, compress: false, includeData: false));
        }

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

        return true;
    }
}
