using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Protocol.Wire;
using Xunit;

namespace AccelBroker.Tests.Isolation;

public sealed class WorkerProtocolTests
{
    [Fact]
    public void FramesRoundTripInOrderAndTheEndOfTheStreamIsNull()
    {
        using var pipe = new MemoryStream();
        var writer = new FrameWriter(pipe);
        var big = new RunCommand { Handle = 7 };
        big.Inputs.Add(new LaneTensor { Dtype = 1, Offset = 64, Length = 1 << 20 });
        big.Inputs[0].Shape.AddRange(Enumerable.Range(1, 3000).Select(i => (long)i));
        writer.Write(new WorkerRequest { Id = 1, Unload = new UnloadCommand { Handle = 3 } });
        writer.Write(new WorkerRequest { Id = 2, Run = big });

        pipe.Position = 0;
        var reader = new FrameReader(pipe);
        WorkerRequest? first = reader.Read(WorkerRequest.Parser);
        WorkerRequest? second = reader.Read(WorkerRequest.Parser);
        Assert.Equal(3, first!.Unload.Handle);
        Assert.Equal(big, second!.Run);
        Assert.Null(reader.Read(WorkerRequest.Parser));
    }

    [Fact]
    public void AFrameCutShortOrOfAnAbsurdSizeIsAnErrorNotAMessage()
    {
        using var pipe = new MemoryStream();
        new FrameWriter(pipe).Write(new WorkerReply { Id = 9, Failure = new Failure { Status = 3, Message = "bad" } });
        byte[] whole = pipe.ToArray();

        var cut = new FrameReader(new MemoryStream(whole[..^2]));
        Assert.Throws<EndOfStreamException>(() => cut.Read(WorkerReply.Parser));

        byte[] absurd = [0xff, 0xff, 0xff, 0x7f];
        Assert.Throws<InvalidDataException>(() => new FrameReader(new MemoryStream(absurd)).Read(WorkerReply.Parser));
    }

    [Fact]
    public void ALaneFileIsSharedBetweenMappingsAndGoneFromDiskOnceUnlinked()
    {
        using SharedLane created = SharedLane.Create($"accelbroker-test-{Guid.NewGuid():N}", generation: 1, needed: 300_000);
        Assert.True(created.Capacity >= 300_000);
        using SharedLane opened = SharedLane.Open(created.Path, 1, created.Capacity);
        created.Span(128, 4).Fill(0x5a);
        Assert.Equal(new byte[] { 0x5a, 0x5a, 0x5a, 0x5a }, opened.Span(128, 4).ToArray());

        created.Unlink();
        Assert.False(File.Exists(created.Path));
        opened.Span(0, 1)[0] = 1;
        Assert.Equal(1, created.Span(0, 1)[0]);
        Assert.Throws<InvalidDataException>(() => opened.Span(created.Capacity - 2, 4).Length);
    }

    [Theory]
    [InlineData(139, new string[0], "SIGSEGV")]
    [InlineData(134, new[] { "terminate called after throwing an instance of 'c10::Error'" }, "std::terminate, SIGABRT")]
    [InlineData(134, new[] { "Stack overflow.", "   at Foo()" }, "stack overflow")]
    [InlineData(137, new string[0], "SIGKILL: killed, e.g. out of memory")]
    [InlineData(3, new string[0], "exit code 3")]
    public void ACrashIsNamedFromItsExitStatusAndLastOutput(int exitCode, string[] lines, string expected) =>
        Assert.Equal(expected, CrashDescription.Of(exitCode, lines));

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void LaneFilesAreTheOwnersAlone()
    {
        using SharedLane lane = SharedLane.Create($"accelbroker-test-{Guid.NewGuid():N}", generation: 1, needed: 1);
        try
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lane.Path));
        }
        finally
        {
            lane.Unlink();
        }
    }

    [Fact]
    public void AnOutputLaneThatIsNotTheWorkersOwnFileIsRefusedAndLeftAlone()
    {
        string victim = Path.Combine(Path.GetTempPath(), $"accel-victim-{Guid.NewGuid():N}");
        File.WriteAllBytes(victim, new byte[1024 * 1024]);
        using var lanes = new AgentLanes("accelbroker-test-agent", "accelbroker-worker-4242");
        AgentLanes.Lane lane = lanes.Take();
        try
        {
            var forged = new LaneRef { Lane = lane.Index, Generation = 1, Path = victim, Capacity = 1024 };
            Assert.Throws<InvalidDataException>(() => lane.ReadOutputs(forged, [], new PooledBuffers(PayloadPool.Shared)));
            Assert.True(File.Exists(victim), "the agent unlinks only its worker's own lane files");
        }
        finally
        {
            File.Delete(victim);
        }
    }

    [Fact]
    public void AnOutputWhoseBytesDoNotMakeItsShapeIsRefused()
    {
        string name = $"accelbroker-worker-{Environment.ProcessId}-{Guid.NewGuid():N}";
        using var lanes = new AgentLanes("accelbroker-test-agent", name);
        AgentLanes.Lane lane = lanes.Take();
        using SharedLane output = SharedLane.Create($"{name}-out{lane.Index}", generation: 1, needed: 64);
        var reference = new LaneRef { Lane = lane.Index, Generation = 1, Path = output.Path, Capacity = output.Capacity };
        var tensor = new LaneTensor { Dtype = (int)AccelBroker.Protocol.V1.DataType.Float32, Offset = 0, Length = 12 };
        tensor.Shape.AddRange([2, 2]);

        Assert.Throws<InvalidDataException>(() => lane.ReadOutputs(reference, [tensor], new PooledBuffers(PayloadPool.Shared)));
    }
}
