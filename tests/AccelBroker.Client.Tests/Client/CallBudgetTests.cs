using AccelBroker.Client.Internal;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Client;

/// <summary>The deadline a recovering call shares among its attempts, and the backoff between them, on a fake clock.</summary>
public sealed class CallBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TheDeadlineIsFixedWhenTheCallStartsAndEveryAttemptGetsOnlyWhatIsLeft()
    {
        var budget = new CallBudget(_time, TimeSpan.FromSeconds(5));
        DateTime deadline = budget.GrpcDeadline;

        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(deadline, budget.GrpcDeadline);
        Assert.Equal(TimeSpan.FromSeconds(2), budget.Remaining);
        Assert.False(budget.Expired);

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.Zero, budget.Remaining);
        Assert.True(budget.Expired);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.Zero, budget.Remaining);
    }

    [Fact]
    public void TheFirstRetryIsAtOnceThenTheBackoffDoublesFromOneHundredMillisecondsToTwoSeconds()
    {
        // Jitter 0.999… is (almost) the full step; 0 is half of it.
        double full = Math.BitDecrement(1.0);
        TimeSpan[] steps = [.. Enumerable.Range(0, 10).Select(retry => CallBudget.Backoff(retry, full))];

        Assert.Equal(TimeSpan.Zero, steps[0]);
        Assert.Equal(100, steps[1].TotalMilliseconds, 0.001);
        Assert.Equal(200, steps[2].TotalMilliseconds, 0.001);
        Assert.Equal(400, steps[3].TotalMilliseconds, 0.001);
        Assert.Equal(800, steps[4].TotalMilliseconds, 0.001);
        Assert.Equal(1600, steps[5].TotalMilliseconds, 0.001);
        Assert.All(steps[6..], step => Assert.Equal(2000, step.TotalMilliseconds, 0.001));
        Assert.Equal(2000, CallBudget.Backoff(int.MaxValue, full).TotalMilliseconds, 0.001);
    }

    [Fact]
    public void JitterSpreadsEachStepOverItsUpperHalf()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(200), CallBudget.Backoff(3, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(300), CallBudget.Backoff(3, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(1), CallBudget.Backoff(20, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CallBudget.Backoff(1, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CallBudget.Backoff(1, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CallBudget.Backoff(-1, 0));
    }

    [Fact]
    public void ABackoffNeverOutlastsTheDeadline()
    {
        var budget = new CallBudget(_time, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromMilliseconds(950));

        Assert.Equal(TimeSpan.FromMilliseconds(50), budget.DelayBefore(10, 0.5));
        Assert.Equal(TimeSpan.Zero, budget.DelayBefore(0, 0.5));

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.Zero, budget.DelayBefore(10, 0.5));
    }

    [Fact]
    public void AnEndlessTimeoutDoesNotOverflow()
    {
        var budget = new CallBudget(_time, TimeSpan.MaxValue);

        Assert.Equal(DateTime.MaxValue, budget.GrpcDeadline);
        Assert.False(budget.Expired);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, "connection refused", true)]
    [InlineData(StatusCode.FailedPrecondition, "the token is for epoch 1 of slice 'acc-1', which this agent holds at epoch 2; resolve the accelerator again", true)]
    [InlineData(StatusCode.FailedPrecondition, "slice 'acc-1' is not held by this agent (detached, or moved to another agent); resolve the accelerator again", true)]
    [InlineData(StatusCode.PermissionDenied, "the token is for slice 'acc-1'; this request names slice 'acc-2'", false)]
    [InlineData(StatusCode.PermissionDenied, "model abc is not on the accelerator's allowlist", false)]
    [InlineData(StatusCode.ResourceExhausted, "this agent is at its limit of 8 concurrent uploads (MaxUploads); retry later", true)]
    [InlineData(StatusCode.ResourceExhausted, "model needs 9000 bytes; the slice has 100 free", false)]
    [InlineData(StatusCode.InvalidArgument, "bad input", false)]
    [InlineData(StatusCode.DeadlineExceeded, "deadline", false)]
    [InlineData(StatusCode.NotFound, "unknown model", false)]
    public void OnlyALostAgentOrALostSliceIsRecovered(StatusCode code, string detail, bool recovered) =>
        Assert.Equal(recovered, RecoverableFailure.Is(new RpcException(new Status(code, detail))));

    [Fact]
    public void AModelThatCannotBeRecoveredIsFinal() =>
        Assert.False(RecoverableFailure.Is(new ModelRecoveryException("its file changed")));
}
