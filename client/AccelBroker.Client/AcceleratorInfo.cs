namespace AccelBroker.Client;

/// <summary>The accelerator a session is bound to, as the broker described it.</summary>
/// <param name="Id">Accelerator id (acc-…).</param>
/// <param name="Host">Client host it is attached to.</param>
/// <param name="Ordinal">Its ordinal on that host (as EI's eia:0).</param>
/// <param name="SliceType">Slice type, e.g. eia2.medium.</param>
/// <param name="AgentAddress">The agent that serves it; the session talks to it directly.</param>
/// <param name="Device">Device kind of the agent: "cpu" or "cuda".</param>
/// <param name="MemoryBytes">Accelerator memory of the slice.</param>
/// <param name="Status">"healthy" or "unhealthy" when resolved.</param>
public sealed record AcceleratorInfo(string Id, string Host, int Ordinal, string SliceType, string AgentAddress, string Device, long MemoryBytes, string Status);
