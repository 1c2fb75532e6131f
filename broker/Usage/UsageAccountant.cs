using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Pricing;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// Takes usage in (agents' heartbeats, clients' reports) and answers GetUsage: what each accelerator did since
/// it was attached, and what 100,000 inferences cost at its host's and slice's prices (seed 002's formula).
/// </summary>
internal sealed class UsageAccountant(
    AttachmentBook book,
    FleetDescriber describer,
    UsageBook usage,
    PriceCatalog prices,
    TimeProvider time,
    ILogger<UsageAccountant> logger)
{
    /// <summary>
    /// Keeps the agent's figures of the committed slices it holds: each slice's usage with its state (memory),
    /// matched by slice id. A slice whose usage or state is malformed is logged and skipped as a whole, never
    /// failing the heartbeat (that would make a healthy agent look lost).
    /// </summary>
    public void RecordHeartbeat(string agentId, IEnumerable<SliceUsage> slices, IEnumerable<SliceState> states)
    {
        HashSet<string>? attached = null;
        Dictionary<string, SliceState>? stateById = null;
        List<string> recorded = [];
        foreach (SliceUsage slice in slices)
        {
            attached ??= AttachedOn(agentId);
            if (!attached.Contains(slice.SliceId))
            {
                continue;
            }

            // A repeated slice id keeps its last state, as a repeated usage report replaces the earlier one.
            stateById ??= states.GroupBy(s => s.SliceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
            SliceState? state = stateById.GetValueOrDefault(slice.SliceId);
            string? problem = UsageChecks.FindMemoryProblem(state)
                ?? UsageChecks.FindIncarnationProblem(slice.Incarnation)
                ?? UsageChecks.FindProblem(slice.Models);
            if (problem is not null)
            {
                BrokerLog.AgentUsageRejected(logger, agentId, slice.SliceId, problem);
                continue;
            }

            if (usage.RecordAgent(slice, state) is { } folded)
            {
                BrokerLog.AgentUsageRestarted(
                    logger, agentId, slice.SliceId, folded.Models.Sum(m => m.Inferences), folded.Models.Sum(m => m.Failures));
            }

            recorded.Add(slice.SliceId);
        }

        if (recorded.Count > 0)
        {
            HashSet<string> stillAttached = AttachedOn(agentId);
            foreach (string sliceId in recorded.Where(id => !stillAttached.Contains(id)))
            {
                usage.Forget(sliceId);
            }
        }
    }

    /// <exception cref="DomainException">InvalidInput naming the problem; NotFound for an accelerator not attached. Nothing is kept on error.</exception>
    public void ReportClient(ReportClientUsageRequest request)
    {
        string? problem = UsageChecks.FindIdProblem("accelerator_id", request.AcceleratorId)
            ?? UsageChecks.FindIdProblem("client_id", request.ClientId)
            ?? UsageChecks.FindProblem(request.Models);
        if (problem is not null)
        {
            throw DomainException.Invalid(problem);
        }

        if (!book.All().Any(a => a.Id == request.AcceleratorId))
        {
            throw DomainException.NotFound($"unknown accelerator '{request.AcceleratorId}'; it may have been detached");
        }

        usage.RecordClient(request.AcceleratorId, request.ClientId, [.. request.Models]);
        ForgetIfDetached(request.AcceleratorId);
    }

    public void Forget(string acceleratorId) => usage.Forget(acceleratorId);

    // A detach between the check and the record would leave figures nobody asks for: detach removes from the
    // book before it forgets, so checking again after recording closes that window (heartbeats do the same).
    private void ForgetIfDetached(string acceleratorId)
    {
        if (!book.All().Any(a => a.Id == acceleratorId))
        {
            usage.Forget(acceleratorId);
        }
    }

    /// <exception cref="DomainException">InvalidInput for a bad host or ordinal; NotFound naming the host's ordinals.</exception>
    public GetUsageResponse Describe(GetUsageRequest request)
    {
        RequestChecks.Host(request.Host);
        IReadOnlyList<AttachmentRecord> attachments;
        if (request.HasOrdinal)
        {
            RequestChecks.Ordinal(request.Ordinal);
            attachments = [book.Find(request.Host, request.Ordinal)
                ?? throw DomainException.NotFound(book.DescribeMissing(request.Host, request.Ordinal))];
        }
        else
        {
            attachments = book.ForHost(request.Host);
        }

        var response = new GetUsageResponse { Host = request.Host, Time = Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
        response.Accelerators.AddRange(attachments.Select(Describe));
        return response;
    }

    private AcceleratorUsage Describe(AttachmentRecord attachment)
    {
        (IReadOnlyList<ModelUsage> agentReports, IReadOnlyList<ModelUsage> clientReports) = usage.Get(attachment.Id);
        var agentByModel = new SortedDictionary<string, UsageTotals>(StringComparer.Ordinal);
        var clientByModel = new SortedDictionary<string, UsageTotals>(StringComparer.Ordinal);
        var agent = new UsageTotals();
        var client = new UsageTotals();
        foreach (ModelUsage model in agentReports)
        {
            agent.Add(model);
            Totals(agentByModel, model.ModelId).Add(model);
        }

        foreach (ModelUsage model in clientReports)
        {
            client.Add(model);
            Totals(clientByModel, model.ModelId).Add(model);
        }

        double hostPrice = attachment.HostType.Length > 0 && prices.TryGetInstance(attachment.HostType, out InstancePrice? host) ? host.PricePerHour : 0;
        double slicePrice = prices.TryGetSlice(attachment.SliceType, out SlicePrice? slice) ? slice.PricePerHour : 0;
        LatencyStats clientStats = client.Total.ToStats();
        LatencyStats agentStats = agent.Total.ToStats();
        (CostBasis basis, double mean) = clientStats.Count > 0 ? (CostBasis.EndToEnd, clientStats.MeanSeconds)
            : agentStats.Count > 0 ? (CostBasis.Agent, agentStats.MeanSeconds)
            : (CostBasis.None, 0.0);

        var result = new AcceleratorUsage
        {
            Accelerator = describer.Describe(attachment),
            Inferences = agent.Inferences,
            Failures = agent.Failures,
            AgentTotal = agentStats,
            AgentQueue = agent.Queue.ToStats(),
            AgentDecode = agent.Decode.ToStats(),
            AgentCompute = agent.Compute.ToStats(),
            AgentEncode = agent.Encode.ToStats(),
            ClientInferences = client.Inferences,
            ClientFailures = client.Failures,
            ClientEndToEnd = clientStats,
            HostPricePerHour = hostPrice,
            SlicePricePerHour = slicePrice,
            CostPer100K = basis == CostBasis.None ? 0 : CostModel.PerHundredThousand(hostPrice + slicePrice, mean),
            CostBasis = basis,
            RejectedQueueFull = agent.RejectedQueueFull,
            DroppedDeadline = agent.DroppedDeadline,
        };
        foreach (string modelId in agentByModel.Keys.Union(clientByModel.Keys).Order(StringComparer.Ordinal))
        {
            UsageTotals? byAgent = agentByModel.GetValueOrDefault(modelId);
            UsageTotals? byClient = clientByModel.GetValueOrDefault(modelId);
            result.Models.Add(new ModelUsageSummary
            {
                ModelId = modelId,
                Inferences = byAgent?.Inferences ?? 0,
                Failures = byAgent?.Failures ?? 0,
                AgentTotal = byAgent?.Total.ToStats() ?? new LatencyStats(),
                ClientEndToEnd = byClient?.Total.ToStats() ?? new LatencyStats(),
                RejectedQueueFull = byAgent?.RejectedQueueFull ?? 0,
                DroppedDeadline = byAgent?.DroppedDeadline ?? 0,
            });
        }

        return result;
    }

    private HashSet<string> AttachedOn(string agentId) => book.OnAgent(agentId).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);

    private static UsageTotals Totals(SortedDictionary<string, UsageTotals> byModel, string modelId)
    {
        if (!byModel.TryGetValue(modelId, out UsageTotals? totals))
        {
            totals = new UsageTotals();
            byModel.Add(modelId, totals);
        }

        return totals;
    }
}
