using System.Text.RegularExpressions;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Limits;

/// <summary>Warm-up shapes are bounded before the worker allocates them, and libtorch's errors reach clients without its internals.</summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed partial class LoadLimitsTests : IClassFixture<LimitedAgent>
{
    private const long Headroom = 256L * 1024 * 1024;
    private readonly LimitedAgent _agent;

    public LoadLimitsTests(LimitedAgent agent) => _agent = agent;

    public static TheoryData<long[], StatusCode, string> HostileWarmups => new()
    {
        // The fuzzed 2^29 float32: 2 GiB, within the run limit but more than one input may be.
        { [1L << 29], StatusCode.ResourceExhausted, $"warm-up input 0: float32 [536870912] needs 2147483648 bytes, over this agent's limit of {Array.MaxLength} bytes per input" },
        { [1L << 30], StatusCode.ResourceExhausted, "warm-up inputs exceed this agent's limit of 2147483648 bytes per run (input 0: float32 [1073741824] needs 4294967296 bytes)" },
        { [0, 1L << 31, 1L << 31, 1L << 31], StatusCode.InvalidArgument, "warm-up input 0: invalid shape [0, 2147483648, 2147483648, 2147483648]: its element count (or a stride) overflows 64 bits" },
        { [1L << 62, 4], StatusCode.InvalidArgument, "warm-up input 0: invalid shape [4611686018427387904, 4]: its element count (or a stride) overflows 64 bits" },
    };

    [Theory]
    [MemberData(nameof(HostileWarmups))]
    public async Task AWarmupShapeBeyondTheLimitsIsRefusedBeforeTheWorkerAllocatesIt(long[] shape, StatusCode status, string message)
    {
        long workerBefore = _agent.ResidentBytes().Worker;
        var warmup = new TensorSpec { Dtype = DataType.Float32 };
        warmup.Shape.AddRange(shape);
        var request = new LoadModelRequest { SliceId = LimitedAgent.SliceId, Sha256 = _agent.Sha256, Alias = "warm" };
        request.WarmupInputs.Add(warmup);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _agent.Client.LoadModelAsync(request, deadline: LimitedAgent.Deadline()));

        Assert.Equal(status, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.InRange(_agent.ResidentBytes().Worker - workerBefore, long.MinValue, Headroom);
        Assert.DoesNotContain(_agent.Slice.ModelsById(), entry => entry.ModelId.EndsWith("warm", StringComparison.Ordinal));
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task ARunTheModelRejectsKeepsTorchScriptsReasonAndNoneOfLibtorchsInternals()
    {
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _agent.Client.RunAsync(_agent.Request(DataType.Float32, [1, 15], new byte[60]), deadline: LimitedAgent.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("the model rejected its inputs: ", error.Status.Detail);
        Assert.Contains("shapes cannot be multiplied (1x15 and 16x", error.Status.Detail);
        AssertNoInternals(error.Status.Detail);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task ABrokenModelsLoadErrorKeepsTheReaderReasonAndNoneOfLibtorchsInternals()
    {
        byte[] good = await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt"));
        string sha256 = await _agent.StoreAsync(good[..(good.Length / 2)]);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _agent.Client.LoadModelAsync(new LoadModelRequest { SliceId = LimitedAgent.SliceId, Sha256 = sha256 }, deadline: LimitedAgent.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("not a loadable TorchScript model: ", error.Status.Detail);
        Assert.Contains("reader failed", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        AssertNoInternals(error.Status.Detail);
        await _agent.AssertStillServesAsync();
    }

    internal static void AssertNoInternals(string detail)
    {
        Assert.DoesNotContain("frame #", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("0x", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(".so", detail, StringComparison.Ordinal);
        Assert.DoesNotMatch(AbsolutePath(), detail);
    }

    [GeneratedRegex(@"(^|[\s""'(\[])(\.\.)?/[^/\s]+/")]
    private static partial Regex AbsolutePath();
}
