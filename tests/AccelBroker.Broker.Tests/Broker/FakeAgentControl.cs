using System.Collections.Concurrent;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Tests.Broker;

/// <summary>A stand-in for the agent's AgentControl service: records what the broker asks, fails when told to.</summary>
public sealed class FakeAgentControl : AgentControl.AgentControlBase
{
    public ConcurrentDictionary<string, SliceAssignment> Slices { get; } = new();

    public ConcurrentQueue<string> Released { get; } = new();

    /// <summary>The bearer credential of every call, in order (null for a call without one).</summary>
    public ConcurrentQueue<string?> Bearers { get; } = new();

    /// <summary>Runs before an assignment is accepted; throw to refuse it, await to hold it.</summary>
    public Func<SliceAssignment, Task>? BeforeAssign { get; set; }

    /// <summary>Runs before a release; throw to fail it.</summary>
    public Func<string, Task>? BeforeRelease { get; set; }

    public override async Task<AssignSliceResponse> AssignSlice(AssignSliceRequest request, ServerCallContext context)
    {
        Bearers.Enqueue(context.RequestHeaders.GetValue("authorization")?["Bearer ".Length..]);
        if (BeforeAssign is { } before)
        {
            await before(request.Slice);
        }

        Slices[request.Slice.SliceId] = request.Slice;
        return new AssignSliceResponse();
    }

    public override async Task<ReleaseSliceResponse> ReleaseSlice(ReleaseSliceRequest request, ServerCallContext context)
    {
        Bearers.Enqueue(context.RequestHeaders.GetValue("authorization")?["Bearer ".Length..]);
        if (BeforeRelease is { } before)
        {
            await before(request.SliceId);
        }

        Slices.TryRemove(request.SliceId, out _);
        Released.Enqueue(request.SliceId);
        return new ReleaseSliceResponse();
    }
}
