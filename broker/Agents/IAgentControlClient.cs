using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Agents;

/// <summary>The broker's calls to an agent's <c>AgentControl</c> service, each with a control token for that agent's id.</summary>
internal interface IAgentControlClient
{
    /// <summary>Asks the agent to create the slice; throws when it does not (unreachable, refused, deadline).</summary>
    Task AssignSliceAsync(string agentId, string agentAddress, SliceAssignment slice, CancellationToken ct);

    /// <summary>Asks the agent to drop the slice; throws when the call fails.</summary>
    Task ReleaseSliceAsync(string agentId, string agentAddress, string sliceId, CancellationToken ct);

    /// <summary>The models the slice serves on its agent (called with a slice token the broker signs for that placement).</summary>
    Task<IReadOnlyList<SliceModel>> ListModelsAsync(SlicePlace place, CancellationToken ct);

    /// <summary>
    /// Copies the bytes of a model uploaded through the slice at <paramref name="from"/> into the slice at
    /// <paramref name="to"/> (ExportModel streamed into UploadModel); within <see cref="BrokerOptions.ModelHandoverTimeout"/>.
    /// </summary>
    Task CopyModelAsync(SlicePlace from, SlicePlace to, string sha256, CancellationToken ct);

    /// <summary>Loads a model into the slice with the given options (and warms it up); within <see cref="BrokerOptions.ModelHandoverTimeout"/>.</summary>
    Task LoadModelAsync(SlicePlace place, LoadModelRequest request, CancellationToken ct);
}
