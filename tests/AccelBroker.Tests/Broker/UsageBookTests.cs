using AccelBroker.Broker.Usage;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class UsageBookTests
{
    [Fact]
    public void AClientsNewerReportReplacesItsOlderOneAndClientsAreAddedUp()
    {
        var book = new UsageBook();
        book.RecordClient("acc-1", "client-a", [Report(2)]);
        book.RecordClient("acc-1", "client-a", [Report(5)]);
        book.RecordClient("acc-1", "client-b", [Report(3)]);

        Assert.Equal(8, Totals(book, "acc-1").Inferences);
    }

    [Fact]
    public void PastTheClientLimitTheLeastRecentClientIsFoldedNotLost()
    {
        var book = new UsageBook();
        for (int i = 0; i < UsageBook.MaxClientsPerAccelerator + 10; i++)
        {
            book.RecordClient("acc-1", $"client-{i}", [Report(1)]);
        }

        (_, IReadOnlyList<ModelUsage> clients) = book.Get("acc-1");
        // 1024 clients kept apart plus one retired total per model.
        Assert.Equal(UsageBook.MaxClientsPerAccelerator + 1, clients.Count);
        UsageTotals totals = Totals(book, "acc-1");
        Assert.Equal(UsageBook.MaxClientsPerAccelerator + 10, totals.Inferences);
        Assert.Equal(UsageBook.MaxClientsPerAccelerator + 10, totals.Total.Count);
    }

    [Fact]
    public void ForgetDropsTheAgentsAndTheClientsFigures()
    {
        var book = new UsageBook();
        var slice = new SliceUsage { SliceId = "acc-1" };
        slice.Models.Add(Report(4));
        book.RecordAgent(slice);
        book.RecordClient("acc-1", "client-a", [Report(2)]);
        Assert.NotNull(book.Get("acc-1").Agent);

        book.Forget("acc-1");

        (SliceUsage? agent, IReadOnlyList<ModelUsage> clients) = book.Get("acc-1");
        Assert.Null(agent);
        Assert.Empty(clients);
    }

    private static UsageTotals Totals(UsageBook book, string acceleratorId)
    {
        var totals = new UsageTotals();
        foreach (ModelUsage model in book.Get(acceleratorId).Clients)
        {
            totals.Add(model);
        }

        return totals;
    }

    private static ModelUsage Report(int runs)
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < runs; i++)
        {
            histogram.Record(0.005);
        }

        return new ModelUsage { ModelId = "m", Inferences = runs, Total = histogram.ToProto() };
    }
}
