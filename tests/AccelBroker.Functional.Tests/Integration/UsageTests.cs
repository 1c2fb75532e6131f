using System.Diagnostics;
using System.Text.Json;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Wire;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Metering end to end: the agent's figures arrive with its heartbeats, the client's with its reports, and
/// <c>accel usage</c> prices them at the host's instance price plus the slice price.
/// </summary>
public sealed class UsageTests : IClassFixture<ClusterFixture>
{
    private const double C5LargePrice = 0.085;
    private const double TinySlicePrice = 0.001;

    // Heartbeats come every 2 s; a loaded 2-core machine may stretch that.
    private static readonly TimeSpan AgentFiguresTimeout = TimeSpan.FromSeconds(15);

    private readonly TestCluster _cluster;
    private readonly ITestOutputHelper _output;

    public UsageTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _cluster = fixture.Cluster;
        _output = output;
    }

    [Fact]
    public async Task UsageShowsClientAndAgentFiguresAndCostsAtHostPlusSlicePrice()
    {
        const int Runs = 20;
        string host = NewHost();
        Accelerator attached = (await _cluster.BrokerClient.AttachAsync(
            new AttachRequest { Host = host, SliceType = TestCluster.TinySlice, HostType = "c5.large" }, deadline: TestCluster.Deadline())).Accelerator;
        string modelId;
        await using (AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = attached.Ordinal, HostCredential = _cluster.HostCredentialOf(host) ?? _cluster.AdminKey }))
        {
            RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            modelId = model.ModelId;
            Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
            for (int i = 0; i < Runs; i++)
            {
                await session.RunAsync(model, [input]);
            }

            await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 1, 15)]));
        }

        // Dispose sent the client's last report; the agent's figures come with a heartbeat.
        AcceleratorUsage usage = await WaitForAgentFiguresAsync(host, attached.Ordinal, Runs, failures: 1);

        Assert.Equal(attached.Id, usage.Accelerator.Id);
        Assert.Equal("c5.large", usage.Accelerator.HostType);
        Assert.Equal(Runs, usage.Inferences);
        Assert.Equal(1, usage.Failures);
        Assert.Equal(Runs, usage.AgentTotal.Count);
        Assert.Equal(Runs, usage.AgentCompute.Count);
        Assert.Equal(Runs, usage.ClientInferences);
        Assert.Equal(1, usage.ClientFailures);
        Assert.Equal(Runs, usage.ClientEndToEnd.Count);
        AssertOrdered(usage.ClientEndToEnd);
        AssertOrdered(usage.AgentTotal);
        // Each client-timed run wraps the agent's timing of the same run.
        Assert.True(usage.ClientEndToEnd.MeanSeconds >= usage.AgentTotal.MeanSeconds,
            $"end to end {usage.ClientEndToEnd.MeanSeconds} s < agent {usage.AgentTotal.MeanSeconds} s");
        Assert.Equal(C5LargePrice, usage.HostPricePerHour);
        Assert.Equal(TinySlicePrice, usage.SlicePricePerHour);
        Assert.Equal(CostBasis.EndToEnd, usage.CostBasis);
        double expectedCost = (C5LargePrice + TinySlicePrice) / 3600 * usage.ClientEndToEnd.MeanSeconds * 100_000;
        Assert.Equal(expectedCost, usage.CostPer100K, 12);
        Assert.Equal(CostModel.PerHundredThousand(C5LargePrice + TinySlicePrice, usage.ClientEndToEnd.MeanSeconds), usage.CostPer100K);
        ModelUsageSummary summary = Assert.Single(usage.Models);
        Assert.Equal(modelId, summary.ModelId);
        Assert.Equal(Runs, summary.Inferences);
        Assert.Equal(1, summary.Failures);
        Assert.Equal(usage.ClientEndToEnd, summary.ClientEndToEnd);

        // The CLI as a process shows the same.
        CliProcess.Result json = await CliInProcess.RunAsync("usage", "--host", host, "--json", "--broker", _cluster.BrokerUrl);
        Assert.True(json.ExitCode == 0, json.StdErr);
        using JsonDocument document = JsonDocument.Parse(json.StdOut);
        Assert.Equal(host, document.RootElement.GetProperty("host").GetString());
        JsonElement shown = Assert.Single(document.RootElement.GetProperty("accelerators").EnumerateArray());
        Assert.Equal(attached.Ordinal, shown.GetProperty("ordinal").GetInt32());
        Assert.Equal(TestCluster.TinySlice, shown.GetProperty("type").GetString());
        Assert.Equal(attached.Id, shown.GetProperty("id").GetString());
        Assert.Equal("c5.large", shown.GetProperty("host_type").GetString());
        Assert.Equal(attached.AttachedAt.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), shown.GetProperty("since").GetString());
        Assert.Equal(Runs, shown.GetProperty("inferences").GetInt64());
        Assert.Equal(1, shown.GetProperty("failures").GetInt64());
        Assert.Equal(Runs, shown.GetProperty("client_inferences").GetInt64());
        JsonElement endToEnd = shown.GetProperty("latency").GetProperty("end_to_end_client");
        Assert.Equal(usage.ClientEndToEnd.MeanSeconds * 1000, endToEnd.GetProperty("mean_ms").GetDouble(), 9);
        Assert.Equal(usage.ClientEndToEnd.P90Seconds * 1000, endToEnd.GetProperty("p90_ms").GetDouble(), 9);
        Assert.Equal(usage.ClientEndToEnd.P99Seconds * 1000, endToEnd.GetProperty("p99_ms").GetDouble(), 9);
        Assert.Equal(usage.AgentTotal.P50Seconds * 1000, shown.GetProperty("latency").GetProperty("agent").GetProperty("p50_ms").GetDouble(), 9);
        Assert.Equal(C5LargePrice, shown.GetProperty("host_price_per_hour").GetDouble());
        Assert.Equal(TinySlicePrice, shown.GetProperty("slice_price_per_hour").GetDouble());
        Assert.Equal(usage.CostPer100K, shown.GetProperty("cost_per_100k").GetDouble(), 12);
        Assert.Equal("end_to_end", shown.GetProperty("cost_basis").GetString());
        Assert.Equal(modelId, Assert.Single(shown.GetProperty("models").EnumerateArray()).GetProperty("model_id").GetString());

        CliProcess.Result table = await CliInProcess.RunAsync("usage", "--host", host, "--ordinal", attached.Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), "--broker", _cluster.BrokerUrl);
        Assert.True(table.ExitCode == 0, table.StdErr);
        _output.WriteLine(table.StdOut);
        Assert.Contains("end to end (client)", table.StdOut);
        Assert.Contains("agent", table.StdOut);
        Assert.Contains("on the end-to-end mean reported by clients", table.StdOut);

        // Usage is per attachment: after a detach the ordinal's next accelerator starts from nothing.
        await _cluster.BrokerClient.DetachAsync(new DetachRequest { Host = host, Ordinal = attached.Ordinal }, deadline: TestCluster.Deadline());
        Accelerator again = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        AcceleratorUsage fresh = Assert.Single((await GetUsageAsync(host, again.Ordinal)).Accelerators);
        Assert.Equal(again.Ordinal, attached.Ordinal);
        Assert.Equal(0, fresh.Inferences);
        Assert.Equal(0, fresh.ClientInferences);
        Assert.Equal(CostBasis.None, fresh.CostBasis);
        Assert.Equal(0, fresh.CostPer100K);
    }

    [Fact]
    public async Task WithoutClientReportsTheCostIsOnTheAgentsMean()
    {
        string host = NewHost();
        Accelerator attached = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using (AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions
        {
            Broker = _cluster.BrokerUrl,
            HostCredential = _cluster.HostCredentialOf(host),
            Host = host,
            Ordinal = attached.Ordinal,
            UsageReportInterval = TimeSpan.Zero,
        }))
        {
            RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            for (int i = 0; i < 3; i++)
            {
                await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
            }
        }

        AcceleratorUsage usage = await WaitForAgentFiguresAsync(host, attached.Ordinal, 3, failures: 0);

        Assert.Equal(0, usage.ClientInferences);
        Assert.Equal(0, usage.ClientEndToEnd.Count);
        Assert.Equal(CostBasis.Agent, usage.CostBasis);
        // No host type given at attach: the host is not priced.
        Assert.Equal(0, usage.HostPricePerHour);
        Assert.Equal(CostModel.PerHundredThousand(TinySlicePrice, usage.AgentTotal.MeanSeconds), usage.CostPer100K);
    }

    [Fact]
    public async Task AnOpenSessionReportsEveryInterval()
    {
        string host = NewHost();
        Accelerator attached = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions
        {
            Broker = _cluster.BrokerUrl,
            HostCredential = _cluster.HostCredentialOf(host),
            Host = host,
            Ordinal = attached.Ordinal,
            UsageReportInterval = TimeSpan.FromMilliseconds(200),
        });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
        await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);

        var waited = Stopwatch.StartNew();
        AcceleratorUsage usage;
        do
        {
            await Task.Delay(100);
            usage = Assert.Single((await GetUsageAsync(host, attached.Ordinal)).Accelerators);
        }
        while (usage.ClientInferences < 2 && waited.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Equal(2, usage.ClientInferences);
        Assert.Equal(2, usage.ClientEndToEnd.Count);
    }

    public static TheoryData<string, string> MalformedReports => new()
    {
        { "no-client-id", "client_id is required" },
        { "no-accelerator-id", "accelerator_id is required" },
        { "no-model-id", "models[0]: model_id is required" },
        { "duplicate-model", "models[1] ('m'): model_id appears more than once" },
        { "negative-failures", "models[0] ('m'): inferences and failures must not be negative (got 3 and -1)" },
        { "count-mismatch", "models[0] ('m') total: holds 3 runs but inferences is 5" },
        { "missing-total", "models[0] ('m') total: missing, but inferences is 3" },
        { "lengths", "models[0] ('m') total: bucket_indexes has 2 entries but bucket_counts has 1" },
        { "not-increasing", "models[0] ('m') total: bucket indexes must increase, but 5 follows 5" },
        { "sum-mismatch", "models[0] ('m') total: bucket counts add up to 3 but count is 4" },
        { "index-too-large", "models[0] ('m') total: bucket index 1113 is outside 0..1112" },
    };

    [Theory]
    [MemberData(nameof(MalformedReports))]
    public async Task AMalformedClientReportIsInvalidArgumentAndNothingIsKept(string kind, string message)
    {
        string host = NewHost();
        Accelerator attached = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        ReportClientUsageRequest request = BadReport(kind, attached.Id);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.BrokerClient.ReportClientUsageAsync(request, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(0, Assert.Single((await GetUsageAsync(host, attached.Ordinal)).Accelerators).ClientInferences);
        await AssertAcceptsAGoodReportAsync(host, attached);
    }

    [Fact]
    public async Task AReportForAnUnknownAcceleratorIsNotFound()
    {
        ReportClientUsageRequest request = GoodReport("acc-0000000000000000000000000000dead", 3);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.BrokerClient.ReportClientUsageAsync(request, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("unknown accelerator 'acc-0000000000000000000000000000dead'; it may have been detached", error.Status.Detail);
        string host = NewHost();
        await AssertAcceptsAGoodReportAsync(host, await _cluster.AttachAsync(host, TestCluster.TinySlice));
    }

    [Fact]
    public async Task UsageOfAnUnknownOrdinalIsNotFoundNamingTheHostsOrdinals()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => GetUsageAsync(host, 5));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal($"host '{host}' has no accelerator at ordinal 5; attached ordinals: 0, 1", error.Status.Detail);
        Assert.Equal(2, (await GetUsageAsync(host, null)).Accelerators.Count);

        CliProcess.Result cli = await CliInProcess.RunAsync("usage", "--host", host, "--ordinal", "5", "--broker", _cluster.BrokerUrl);
        Assert.Equal(1, cli.ExitCode);
        Assert.Equal($"accel: error: NotFound: host '{host}' has no accelerator at ordinal 5; attached ordinals: 0, 1", cli.StdErr.Trim());
    }

    [Theory]
    [InlineData("", null, "host must not be empty")]
    [InlineData("h", -1, "ordinal must be 0 or greater (got -1)")]
    public async Task ABadUsageRequestIsInvalidArgument(string host, int? ordinal, string message)
    {
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => GetUsageAsync(host, ordinal));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Empty((await GetUsageAsync(NewHost(), null)).Accelerators);
    }

    private async Task AssertAcceptsAGoodReportAsync(string host, Accelerator attached)
    {
        await _cluster.BrokerClient.ReportClientUsageAsync(GoodReport(attached.Id, 3), deadline: TestCluster.Deadline());
        AcceleratorUsage usage = Assert.Single((await GetUsageAsync(host, attached.Ordinal)).Accelerators);
        Assert.Equal(3, usage.ClientInferences);
        Assert.Equal(1, usage.ClientFailures);
        Assert.Equal(CostBasis.EndToEnd, usage.CostBasis);
        Assert.Equal(0.010, usage.ClientEndToEnd.MeanSeconds, 12);
    }

    private static ReportClientUsageRequest GoodReport(string acceleratorId, int runs)
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < runs; i++)
        {
            histogram.Record(0.010);
        }

        var request = new ReportClientUsageRequest { AcceleratorId = acceleratorId, ClientId = Guid.NewGuid().ToString("N") };
        request.Models.Add(new ModelUsage { ModelId = "m", Inferences = runs, Failures = 1, Total = histogram.ToProto() });
        return request;
    }

    private static ReportClientUsageRequest BadReport(string kind, string acceleratorId)
    {
        ReportClientUsageRequest request = GoodReport(acceleratorId, 3);
        ModelUsage model = request.Models[0];
        switch (kind)
        {
            case "no-client-id":
                request.ClientId = "";
                break;
            case "no-accelerator-id":
                request.AcceleratorId = "";
                break;
            case "no-model-id":
                model.ModelId = "";
                break;
            case "duplicate-model":
                request.Models.Add(model.Clone());
                break;
            case "negative-failures":
                model.Failures = -1;
                break;
            case "count-mismatch":
                model.Inferences = 5;
                break;
            case "missing-total":
                model.Total = null;
                break;
            default:
                model.Total = MalformedHistograms.Of(kind);
                break;
        }

        return request;
    }

    private async Task<AcceleratorUsage> WaitForAgentFiguresAsync(string host, int ordinal, long inferences, long failures)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            AcceleratorUsage usage = Assert.Single((await GetUsageAsync(host, ordinal)).Accelerators);
            if ((usage.Inferences >= inferences && usage.Failures >= failures) || waited.Elapsed > AgentFiguresTimeout)
            {
                Assert.True(usage.Inferences == inferences && usage.Failures == failures,
                    $"the agent reported {usage.Inferences} inferences and {usage.Failures} failures within {waited.Elapsed.TotalSeconds:0.0} s, expected {inferences} and {failures}");
                return usage;
            }

            await Task.Delay(200);
        }
    }

    private async Task<GetUsageResponse> GetUsageAsync(string host, int? ordinal)
    {
        var request = new GetUsageRequest { Host = host };
        if (ordinal is { } n)
        {
            request.Ordinal = n;
        }

        return await _cluster.BrokerClient.GetUsageAsync(request, deadline: TestCluster.Deadline());
    }

    private static void AssertOrdered(LatencyStats s)
    {
        Assert.True(s.MinSeconds > 0);
        Assert.True(s.MinSeconds <= s.P50Seconds && s.P50Seconds <= s.P90Seconds && s.P90Seconds <= s.P95Seconds && s.P95Seconds <= s.P99Seconds && s.P99Seconds <= s.MaxSeconds, s.ToString());
        Assert.InRange(s.MeanSeconds, s.MinSeconds, s.MaxSeconds);
    }

    private static string NewHost() => "usage-" + Guid.NewGuid().ToString("N")[..8];
}
