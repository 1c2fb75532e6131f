using AccelBroker.Broker.Agents;
using AccelBroker.Broker.Internal;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Placement;

/// <summary>
/// Readies a slice's new placement during a drain, before clients are switched to it: the model bytes uploaded through the
/// slice are copied from the old agent (which still serves) to the new one, and the models resident on the old agent are
/// loaded and warmed on the new one with the options they were loaded with. Clients that move then find their models
/// loaded: their reload is answered at once. The bytes pass through the broker once per model and drain; inference
/// traffic never does. A failure is logged and leaves the rest to the clients, which upload and load what they miss.
/// </summary>
internal sealed class SliceHandover(BrokerOptions options, IAgentControlClient agents, ILogger<SliceHandover> logger)
{
    /// <returns>How many models are loaded on the new placement.</returns>
    public async Task<int> ReadyAsync(SlicePlace from, SlicePlace to, CancellationToken ct)
    {
        IReadOnlyList<SliceModel> models;
        try
        {
            models = await agents.ListModelsAsync(from, ct);
        }
        catch (Exception ex) when (AgentCallFailure.IsExpected(ex))
        {
            BrokerLog.HandoverFailed(logger, from.SliceId, from.AgentId, to.AgentId, "ListModels", AgentCallFailure.Describe(ex, options.AgentCallTimeout));
            return 0;
        }

        var copied = new HashSet<string>(StringComparer.Ordinal);
        int loaded = 0;
        foreach (SliceModel model in models)
        {
            try
            {
                if (copied.Add(model.Sha256))
                {
                    await agents.CopyModelAsync(from, to, model.Sha256, ct);
                }

                if (!model.Resident)
                {
                    continue; // evicted there: it reloads on its next run, here as there
                }

                var load = new LoadModelRequest
                {
                    SliceId = to.SliceId,
                    Sha256 = model.Sha256,
                    Precision = model.Precision,
                    Batching = model.Batching,
                    Alias = model.Alias,
                };
                load.WarmupInputs.AddRange(model.WarmupInputs);
                await agents.LoadModelAsync(to, load, ct);
                loaded++;
            }
            catch (Exception ex) when (AgentCallFailure.IsExpected(ex))
            {
                BrokerLog.HandoverFailed(logger, from.SliceId, from.AgentId, to.AgentId, $"model {model.ModelId}", AgentCallFailure.Describe(ex, options.ModelHandoverTimeout));
            }
        }

        BrokerLog.HandedOver(logger, from.SliceId, from.AgentId, to.AgentId, copied.Count, loaded);
        return loaded;
    }
}
