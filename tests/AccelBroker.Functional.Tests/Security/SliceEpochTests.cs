using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Security;

/// <summary>
/// Two agents never serve one accelerator: a slice token names the placement epoch it was issued for, and an agent
/// holding the slice at another epoch refuses it with FailedPrecondition (the client library then resolves again).
/// </summary>
public sealed class SliceEpochTests : IAsyncLifetime
{
    private const string Slice = "acc-epoch";
    private StandaloneAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _agent = await StandaloneAgent.StartAsync(o => o);
        await _agent.Control.AssignSliceAsync(
            new AssignSliceRequest { Slice = new SliceAssignment { SliceId = Slice, SliceType = "t", MemoryBytes = 64L << 20, ComputeShare = 0.1, Host = "h", Epoch = 3 } },
            deadline: StandaloneAgent.Deadline());
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task ATokenOfAnotherEpochIsRefusedWithFailedPrecondition(long epoch)
    {
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await ListAsync(epoch));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal($"the token is for epoch {epoch} of slice '{Slice}', which this agent holds at epoch 3; resolve the accelerator again", refused.Status.Detail);
        Assert.Empty((await ListAsync(3)).Models);
    }

    [Fact]
    public async Task AfterTheSliceCameBackAtANewEpochTheOldEpochsTokensAreRefused()
    {
        Assert.Empty((await ListAsync(3)).Models);

        await _agent.Control.AssignSliceAsync(
            new AssignSliceRequest { Slice = new SliceAssignment { SliceId = Slice, SliceType = "t", MemoryBytes = 64L << 20, ComputeShare = 0.1, Host = "h", Epoch = 5 } },
            deadline: StandaloneAgent.Deadline());

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await ListAsync(3));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Empty((await ListAsync(5)).Models);
    }

    private async Task<ListModelsResponse> ListAsync(long epoch)
    {
        var headers = new Metadata { { "authorization", "Bearer " + _agent.Issuer.Mint(AccessScope.Slice, StandaloneAgent.AgentId, Slice, epoch: epoch) } };
        return await _agent.Anonymous.ListModelsAsync(new ListModelsRequest { SliceId = Slice }, headers, StandaloneAgent.Deadline());
    }
}
