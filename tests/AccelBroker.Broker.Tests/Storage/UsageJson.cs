using System.Text.Json;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Usage;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;

namespace AccelBroker.Tests.Storage;

/// <summary>A usage document as text, to compare documents whose records hold lists.</summary>
internal static class UsageJson
{
    public static string Of(UsageDocument document) => JsonSerializer.Serialize(document, BrokerJsonContext.Default.UsageDocument);

    /// <summary>A book of two accelerators as reports make it: agent counters, an earlier incarnation, clients, histograms.</summary>
    public static UsageDocument Sample()
    {
        var book = new UsageBook();
        foreach ((string incarnation, int runs) in new[] { ("first", 5), ("second", 2) })
        {
            var slice = new SliceUsage { SliceId = "acc-1", Incarnation = incarnation };
            slice.Models.Add(UsageBookTests.Report(runs, failures: 1));
            book.RecordAgent(slice, new SliceState { SliceId = "acc-1", MemoryChargedBytes = 4096, ModelsResident = 1 });
        }

        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(3)]);
        book.RecordClient("acc-2", "client-b", [UsageBookTests.Report(4, modelId: "n")]);
        return book.Snapshot().Document;
    }
}
