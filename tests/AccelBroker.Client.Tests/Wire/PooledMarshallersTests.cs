using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Wire;

public sealed class PooledMarshallersTests
{
    // Segment sizes as Kestrel's pipes and the HTTP/2 client hand them out, and a few odd ones, so that varints,
    // tags and tensor bytes cross segment boundaries.
    public static TheoryData<int> Segments => new() { 1, 7, 4096, 128 * 1024, int.MaxValue };

    [Theory]
    [MemberData(nameof(Segments))]
    public void ARunRequestParsesToTheSameMessageAsTheGeneratedParserWhateverItsSegments(int segmentBytes)
    {
        var random = new Random(segmentBytes);
        for (int trial = 0; trial < 20; trial++)
        {
            RunRequest sent = RandomRequest(random);
            byte[] wire = sent.ToByteArray();

            RunRequest pooled = Parse(PooledMarshallers.RunRequest, wire, segmentBytes);

            Assert.Equal(RunRequest.Parser.ParseFrom(wire), pooled);
            Assert.Equal(sent, pooled);
        }
    }

    [Fact]
    public void TensorBytesOfALargeRequestLiveInPooledArraysWhichReleaseGivesBack()
    {
        var pool = PayloadPool.Shared;
        RunRequest sent = new() { SliceId = "s", ModelId = "m" };
        sent.Inputs.Add(Tensor(new Random(1), 600_000));
        byte[] wire = sent.ToByteArray();

        RunRequest pooled = Parse(PooledMarshallers.RunRequest, wire, 4096);

        PooledBuffers? buffers = PooledMarshallers.PooledOf(pooled);
        Assert.NotNull(buffers);
        long before = pool.RetainedBytes;
        buffers.Release();
        Assert.Equal(before + (1 << 20), pool.RetainedBytes);
        // The next large receive takes the same array back instead of fresh pages.
        RunRequest again = Parse(PooledMarshallers.RunRequest, wire, 4096);
        Assert.Equal(before, pool.RetainedBytes);
        Assert.Equal(sent, again);
        PooledMarshallers.PooledOf(again)!.Release();
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public void RunResponsesStreamChunksAndEchoesParseAsGenerated(int segmentBytes)
    {
        var random = new Random(segmentBytes + 1);
        var response = new RunResponse { Kind = OutputKind.Tuple, Device = "cpu", Timing = new RunTiming { ComputeSeconds = 0.5 } };
        response.Outputs.Add(Tensor(random, 40_000));
        response.Outputs.Add(Tensor(random, 0));
        response.Outputs.Add(Tensor(random, 70_000));
        var chunk = new RunStreamRequest { Chunk = ByteString.CopyFrom(Bytes(random, 2 * 1024 * 1024)) };
        var responseChunk = new RunStreamResponse { Chunk = ByteString.CopyFrom(Bytes(random, 50_000)) };
        var header = new RunStreamRequest { Header = new RunStreamHeader { Request = RandomRequest(random) } };
        var echo = new EchoRequest { Payload = ByteString.CopyFrom(Bytes(random, 602_112)) };
        var echoed = new EchoResponse { Payload = ByteString.CopyFrom(Bytes(random, 33_000)) };

        Assert.Equal(response, Parse(PooledMarshallers.RunResponse, response.ToByteArray(), segmentBytes));
        Assert.Equal(chunk, Parse(PooledMarshallers.RunStreamRequest, chunk.ToByteArray(), segmentBytes));
        Assert.Equal(responseChunk, Parse(PooledMarshallers.RunStreamResponse, responseChunk.ToByteArray(), segmentBytes));
        Assert.Equal(header, Parse(PooledMarshallers.RunStreamRequest, header.ToByteArray(), segmentBytes));
        Assert.Equal(echo, Parse(PooledMarshallers.EchoRequest, echo.ToByteArray(), segmentBytes));
        Assert.Equal(echoed, Parse(PooledMarshallers.EchoResponse, echoed.ToByteArray(), segmentBytes));
    }

    [Fact]
    public void OfAOneofGivenTwiceTheLastCaseWinsAsInTheGeneratedParser()
    {
        var random = new Random(5);
        byte[] header = new RunStreamRequest { Header = new RunStreamHeader { Request = new RunRequest { SliceId = "x" } } }.ToByteArray();
        byte[] chunk = new RunStreamRequest { Chunk = ByteString.CopyFrom(Bytes(random, 40_000)) }.ToByteArray();

        byte[][] orders = [[.. header, .. chunk], [.. chunk, .. header], [.. chunk, .. chunk]];
        foreach (byte[] wire in orders)
        {
            Assert.Equal(RunStreamRequest.Parser.ParseFrom(wire), Parse(PooledMarshallers.RunStreamRequest, wire, 4096));
        }
    }

    [Fact]
    public void UnknownFieldsAndRepeatedDataFieldsSurviveAsInTheGeneratedParser()
    {
        var random = new Random(9);
        TensorProto tensor = Tensor(random, 50_000);
        byte[] wire = new RunRequest { SliceId = "s" }.ToByteArray();
        // An unknown varint field (99), an input, and a tensor whose data field comes twice (the last one counts).
        var extra = new MemoryStream();
        var output = new CodedOutputStream(extra);
        output.WriteTag(99, WireFormat.WireType.Varint);
        output.WriteInt64(12345);
        output.WriteTag(RunRequest.InputsFieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom([.. tensor.ToByteArray(), .. new TensorProto { Data = ByteString.CopyFrom(Bytes(random, 60_000)) }.ToByteArray()]));
        output.Flush();
        wire = [.. wire, .. extra.ToArray()];

        RunRequest pooled = Parse(PooledMarshallers.RunRequest, wire, 4096);

        RunRequest generated = RunRequest.Parser.ParseFrom(wire);
        Assert.Equal(generated, pooled);
        Assert.Equal(60_000, pooled.Inputs[0].Data.Length);
        Assert.Equal(generated.ToByteArray(), pooled.ToByteArray());
    }

    [Fact]
    public void ATruncatedMessageIsRefusedAsTheGeneratedParserRefusesIt()
    {
        RunRequest sent = new() { SliceId = "s" };
        sent.Inputs.Add(Tensor(new Random(3), 100_000));
        byte[] wire = sent.ToByteArray()[..^10];

        Exception generated = Assert.ThrowsAny<Exception>(() => RunRequest.Parser.ParseFrom(wire));
        Exception pooled = Assert.ThrowsAny<Exception>(() => Parse(PooledMarshallers.RunRequest, wire, 4096));

        Assert.IsType<InvalidProtocolBufferException>(pooled);
        Assert.Equal(generated.GetType(), pooled.GetType());
    }

    [Fact]
    public void SerializingAMessageGivesBackTheArraysItWasSentFrom()
    {
        var pool = new PayloadPool(64L * 1024 * 1024, TimeSpan.FromMinutes(1), TimeProvider.System);
        var buffers = new PooledBuffers(pool);
        byte[] array = buffers.Rent(100_000);
        var response = new EchoResponse { Payload = UnsafeByteOperations.UnsafeWrap(array.AsMemory(0, 100_000)) };
        PooledMarshallers.ReleaseAfterSend(response, buffers);

        var context = new TestSerializationContext();
        PooledMarshallers.EchoResponse.ContextualSerializer(response, context);

        Assert.Equal(response.ToByteArray(), context.Written);
        Assert.Equal(array.Length, pool.RetainedBytes);
    }

    private static T Parse<T>(Marshaller<T> marshaller, byte[] wire, int segmentBytes) =>
        marshaller.ContextualDeserializer(new TestDeserializationContext(wire, segmentBytes));

    private static RunRequest RandomRequest(Random random)
    {
        var request = new RunRequest
        {
            SliceId = "slice-" + random.Next(),
            ModelId = "model-" + random.Next(),
            NativeOutputDtype = random.Next(2) == 0,
            AcceptCompression = random.Next(2) == 0,
        };
        int count = random.Next(0, 4);
        for (int i = 0; i < count; i++)
        {
            // Small, empty and large tensors: below and above the size from which bytes are pooled.
            request.Inputs.Add(Tensor(random, random.Next(3) switch { 0 => 0, 1 => random.Next(1, 200), _ => random.Next(30_000, 300_000) }));
        }

        return request;
    }

    private static TensorProto Tensor(Random random, int bytes)
    {
        var tensor = new TensorProto { Dtype = DataType.Uint8, RawLength = bytes, Compression = Compression.None };
        tensor.Shape.Add(bytes);
        if (bytes > 0)
        {
            tensor.Data = ByteString.CopyFrom(Bytes(random, bytes));
        }

        return tensor;
    }

    private static byte[] Bytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
