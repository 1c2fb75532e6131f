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
        Assert.NotEmpty(book.Get("acc-1").Agent);

        book.Forget("acc-1");

        (IReadOnlyList<ModelUsage> agent, IReadOnlyList<ModelUsage> clients) = book.Get("acc-1");
        Assert.Empty(agent);
        Assert.Empty(clients);
        Assert.Null(book.GetAgent("acc-1"));
    }

    [Fact]
    public void ANewIncarnationAddsTheAgentsEarlierFiguresInsteadOfReplacingThem()
    {
        var book = new UsageBook();
        Assert.Null(book.RecordAgent(Slice("acc-1", "first", Report(5))));
        Assert.Null(book.RecordAgent(Slice("acc-1", "first", Report(7, failures: 1))));

        // The agent restarted and was given the slice again: its counters start from zero.
        SliceUsage? folded = book.RecordAgent(Slice("acc-1", "second", Report(2)));
        Assert.NotNull(folded);
        Assert.Equal(7, folded.Models.Single().Inferences);
        Assert.Null(book.RecordAgent(Slice("acc-1", "second", Report(4))));

        UsageTotals totals = AgentTotals(book, "acc-1");
        Assert.Equal(11, totals.Inferences);
        Assert.Equal(1, totals.Failures);
        Assert.Equal(11, totals.Total.Count);
        Assert.Equal(11, totals.Compute.Count);
        Assert.Equal(0.005 * 11, totals.Total.Sum, 12);
        // The memory figures are the latest report's, not added up.
        Assert.Equal("second", book.GetAgent("acc-1")!.Incarnation);

        // Another restart adds the second incarnation's figures too.
        book.RecordAgent(Slice("acc-1", "third", Report(1)));
        Assert.Equal(12, AgentTotals(book, "acc-1").Inferences);
    }

    [Fact]
    public void WithoutIncarnationsACounterThatWentDownOrAModelThatVanishedIsAReset()
    {
        var book = new UsageBook();
        book.RecordAgent(Slice("acc-1", "", Report(5)));
        book.RecordAgent(Slice("acc-1", "", Report(3)));
        Assert.Equal(8, AgentTotals(book, "acc-1").Inferences);

        book.RecordAgent(Slice("acc-1", "", Report(4, failures: 2)));
        Assert.Equal(9, AgentTotals(book, "acc-1").Inferences);
        book.RecordAgent(Slice("acc-1", "", Report(4, failures: 1)));
        Assert.Equal((13L, 3L), (AgentTotals(book, "acc-1").Inferences, AgentTotals(book, "acc-1").Failures));

        book.RecordAgent(Slice("acc-1", "", Report(1, modelId: "other")));
        UsageTotals totals = AgentTotals(book, "acc-1");
        Assert.Equal(14, totals.Inferences);
        Assert.Equal(["m", "other"], book.Get("acc-1").Agent.Select(m => m.ModelId).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void OverloadCountersAreAddedAcrossIncarnationsAndOneThatWentDownIsAReset()
    {
        var book = new UsageBook();
        book.RecordAgent(Slice("acc-1", "first", Overloaded(Report(2), rejected: 3, dropped: 1)));
        book.RecordAgent(Slice("acc-1", "second", Overloaded(Report(1), rejected: 2, dropped: 0)));
        Assert.Equal((5L, 1L), (AgentTotals(book, "acc-1").RejectedQueueFull, AgentTotals(book, "acc-1").DroppedDeadline));

        // Without incarnations, a rejection counter lower than before means the agent's counters started again.
        book.RecordAgent(Slice("acc-2", "", Overloaded(Report(2), rejected: 4, dropped: 0)));
        Assert.NotNull(book.RecordAgent(Slice("acc-2", "", Overloaded(Report(2), rejected: 1, dropped: 0))));
        Assert.Equal(5, AgentTotals(book, "acc-2").RejectedQueueFull);
    }

    [Fact]
    public void AReportThatRepeatsTheLastOneChangesNothing()
    {
        var book = new UsageBook();
        book.RecordAgent(Slice("acc-1", "first", Report(5)));
        book.RecordClient("acc-1", "client-a", [Report(2)]);
        long revision = book.Revision;

        SliceUsage again = Slice("acc-1", "first", Report(5));
        var state = new SliceState { SliceId = "acc-1", MemoryChargedBytes = 1024 };
        Assert.Null(book.RecordAgent(again, state));
        book.RecordClient("acc-1", "client-a", [Report(2)]);

        Assert.Equal(revision, book.Revision);
        Assert.Equal(5, AgentTotals(book, "acc-1").Inferences);
        Assert.Equal(1024, book.GetState("acc-1")!.MemoryChargedBytes);
        book.RecordAgent(Slice("acc-1", "first", Report(6)));
        Assert.NotEqual(revision, book.Revision);
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

    private static UsageTotals AgentTotals(UsageBook book, string acceleratorId)
    {
        var totals = new UsageTotals();
        foreach (ModelUsage model in book.Get(acceleratorId).Agent)
        {
            totals.Add(model);
        }

        return totals;
    }

    private static SliceUsage Slice(string sliceId, string incarnation, ModelUsage model)
    {
        var slice = new SliceUsage { SliceId = sliceId, Incarnation = incarnation };
        slice.Models.Add(model);
        return slice;
    }

    internal static ModelUsage Overloaded(ModelUsage usage, long rejected, long dropped)
    {
        usage.RejectedQueueFull = rejected;
        usage.DroppedDeadline = dropped;
        return usage;
    }

    /// <summary>A model's cumulative figures: <paramref name="runs"/> of 5 ms each (compute 3 ms of them).</summary>
    internal static ModelUsage Report(int runs, int failures = 0, string modelId = "m")
    {
        var total = new LatencyHistogram();
        var compute = new LatencyHistogram();
        for (int i = 0; i < runs; i++)
        {
            total.Record(0.005);
            compute.Record(0.003);
        }

        return new ModelUsage { ModelId = modelId, Inferences = runs, Failures = failures, Total = total.ToProto(), Compute = compute.ToProto() };
    }
}
