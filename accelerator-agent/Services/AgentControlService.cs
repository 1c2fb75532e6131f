using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>Slice placement calls from the broker.</summary>
internal sealed class AgentControlService : AgentControl.AgentControlBase
{
    private readonly SliceRegistry _slices;

    public AgentControlService(SliceRegistry slices)
    {
        _slices = slices;
    }

    public override Task<AssignSliceResponse> AssignSlice(AssignSliceRequest request, ServerCallContext context)
    {
        if (request.Slice is null)
        {
            throw DomainException.Invalid("slice is required");
        }

        _slices.Assign(request.Slice);
        return Task.FromResult(new AssignSliceResponse());
    }

    public override Task<ReleaseSliceResponse> ReleaseSlice(ReleaseSliceRequest request, ServerCallContext context)
    {
        // Idempotent: releasing a slice that is already gone is success.
        _slices.Release(request.SliceId);
        return Task.FromResult(new ReleaseSliceResponse());
    }
}
