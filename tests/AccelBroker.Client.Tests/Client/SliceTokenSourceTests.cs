using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Client;

/// <summary>How a session keeps its slice token fresh without the application noticing.</summary>
public sealed class SliceTokenSourceTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
    private int _resolves;
    private TaskCompletionSource? _gate;

    [Fact]
    public async Task BeforeEightyPercentOfItsLifeTheTokenIsUsedAsIs()
    {
        SliceTokenSource source = Create();
        _time.Advance(Lifetime * 0.79);

        await source.EnsureFreshAsync(CancellationToken.None);

        Assert.Equal(0, _resolves);
        Assert.Equal("Bearer token-0", source.Entry.Value);
        Assert.Equal("Bearer token-0", source.Headers.GetValue("authorization"));
    }

    [Fact]
    public async Task PastEightyPercentItIsRenewedBehindTheCallWhichGoesOnWithTheGoodToken()
    {
        SliceTokenSource source = Create();
        _gate = new TaskCompletionSource();
        _time.Advance(Lifetime * 0.85);

        ValueTask call = source.EnsureFreshAsync(CancellationToken.None);

        Assert.True(call.IsCompleted, "a call with a still-good token does not wait for the renewal");
        Assert.Equal("Bearer token-0", source.Entry.Value);
        await source.EnsureFreshAsync(CancellationToken.None);
        Assert.Equal(1, _resolves); // one renewal at a time
        _gate.SetResult();
        await WaitForAsync(() => source.Entry.Value == "Bearer token-1");
    }

    [Fact]
    public async Task AnExpiredTokenIsRenewedBeforeTheCallLeaves()
    {
        SliceTokenSource source = Create();
        _time.Advance(Lifetime + TimeSpan.FromSeconds(1));

        await source.EnsureFreshAsync(CancellationToken.None);

        Assert.Equal(1, _resolves);
        Assert.Equal("Bearer token-1", source.Entry.Value);
    }

    [Fact]
    public async Task ARefusedTokenIsRenewedOnceEvenWhenManyCallsSawItRefused()
    {
        SliceTokenSource source = Create();
        Metadata.Entry refused = source.Entry;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => source.RenewAfterRefusalAsync(refused, CancellationToken.None)));
        await source.RenewAfterRefusalAsync(refused, CancellationToken.None);

        Assert.Equal(1, _resolves);
        Assert.Equal("Bearer token-1", source.Entry.Value);
    }

    [Fact]
    public async Task SixteenCallsThatLostTheirAgentTogetherCauseOneResolutionAndSeeTheNewPlacementWithItsToken()
    {
        SliceTokenSource source = Create();
        Metadata.Entry failed = source.Entry;
        var before = new Placement(Placement.InfoOf(source.Accelerator), source.Accelerator.AgentId, source.Accelerator.Epoch, NoCalls.Instance);
        _gate = new TaskCompletionSource();

        Task[] calls = [.. Enumerable.Range(0, 16).Select(_ => source.RenewAfterRefusalAsync(failed, CancellationToken.None))];
        _gate.SetResult();
        await Task.WhenAll(calls);

        Assert.Equal(1, _resolves);
        Assert.Equal("Bearer token-1", source.Entry.Value);
        Assert.Equal("http://127.0.0.1:5001", source.Accelerator.AgentAddress);
        Assert.Equal(2, source.Accelerator.Epoch);
        Assert.False(before.Matches(source.Accelerator));
        Assert.True(before.Matches(Response(0).Accelerator));
    }

    [Fact]
    public async Task AFailedBackgroundRenewalLeavesTheGoodTokenAndIsTriedAgainLater()
    {
        SliceTokenSource source = Create();
        _failNext = true;
        _time.Advance(Lifetime * 0.85);

        await source.EnsureFreshAsync(CancellationToken.None);
        await WaitForAsync(() => _resolves == 1);
        // At once, before any continuation of the failure could run: the next try is already put off.
        await source.EnsureFreshAsync(CancellationToken.None);
        Assert.Equal("Bearer token-0", source.Entry.Value);

        _time.Advance(TimeSpan.FromSeconds(2));
        await source.EnsureFreshAsync(CancellationToken.None);
        await WaitForAsync(() => source.Entry.Value == "Bearer token-2");
    }

    [Fact]
    public void AResolutionWithoutATokenIsAClearError()
    {
        RpcException error = Assert.Throws<RpcException>(() => new SliceTokenSource(new ResolveAcceleratorResponse(), _ => throw new InvalidOperationException(), _time));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("no slice token", error.Status.Detail, StringComparison.Ordinal);
    }

    private bool _failNext;

    private SliceTokenSource Create() => new(Response(0), ResolveAsync, _time);

    private async Task<ResolveAcceleratorResponse> ResolveAsync(CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _resolves);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }

        if (_failNext)
        {
            _failNext = false;
            throw new RpcException(new Status(StatusCode.Unavailable, "broker down"));
        }

        return Response(n);
    }

    private ResolveAcceleratorResponse Response(int n) => new()
    {
        Accelerator = new Accelerator { Id = "acc-1", AgentId = $"agent-{n}", AgentAddress = $"http://127.0.0.1:{5000 + n}", Epoch = n + 1 },
        SliceToken = $"token-{n}",
        SliceTokenExpiresAt = Timestamp.FromDateTimeOffset(_time.GetUtcNow() + Lifetime),
    };

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
