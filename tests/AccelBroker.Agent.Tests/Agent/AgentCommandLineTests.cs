using AccelBroker.Agent;
using Xunit;

namespace AccelBroker.Tests.Agent;

public sealed class AgentCommandLineTests
{
    [Fact]
    public void EveryOptionIsParsed()
    {
        AgentOptions? options = Program.Parse([
            "--broker", "http://broker:5050/", "--listen=http://0.0.0.0:7001", "--advertise", "http://gpu-1:7001",
            "--device", "cuda:1", "--instance-type", "g4dn.xlarge", "--memory-mib", "1024", "--model-store-mib", "2048", "--compute", "0.5",
            "--eviction-threshold", "0.8", "--data-dir", "/var/lib/a", "--agent-id", "agent-x", "--slots", "2", "--threads", "4", "--huge-pages", "false", "--max-queue-per-slice", "32",
            "--otlp-endpoint", "http://collector:4318/",
        ]);

        Assert.NotNull(options);
        Assert.Equal("http://broker:5050", options.BrokerAddress);
        Assert.Equal("http://0.0.0.0:7001", options.Listen);
        Assert.Equal("http://gpu-1:7001", options.AdvertiseAddress);
        Assert.Equal("cuda:1", options.Device);
        Assert.Equal("g4dn.xlarge", options.InstanceType);
        Assert.Equal(1024L * 1024 * 1024, options.MemoryBytes);
        Assert.Equal(2048L * 1024 * 1024, options.ModelStoreBytes);
        Assert.Equal(0.5, options.Compute);
        Assert.Equal(0.8, options.EvictionThreshold);
        Assert.Equal("/var/lib/a", options.DataDirectory);
        Assert.Equal("agent-x", options.AgentId);
        Assert.Equal(2, options.ExecutionSlots);
        Assert.Equal(4, options.IntraOpThreads);
        Assert.Equal(32, options.MaxQueuePerSlice);
        Assert.False(options.HugePageAllocation);
        Assert.Equal("http://collector:4318", options.OtlpEndpoint);
    }

    [Theory]
    [InlineData(new string[0], "http://127.0.0.1:0")]
    [InlineData(new[] { "--listen", "http://0.0.0.0:7001" }, "http://0.0.0.0:0")]
    [InlineData(new[] { "--listen", "http://localhost:7001" }, "http://127.0.0.1:0")]
    [InlineData(new[] { "--listen", "https://gpu-1:7443", "--metrics-listen", "http://10.0.0.5:9464/" }, "http://10.0.0.5:9464")]
    [InlineData(new[] { "--metrics-listen", "off" }, null)]
    public void MetricsDefaultToAFreePortOnTheListenHost(string[] args, string? metricsListen)
    {
        Assert.Equal(metricsListen, Program.Parse(args)!.MetricsListen);
    }

    [Fact]
    public void DefaultsRunACpuAgentStandaloneWithHugePagesInItsWorkers()
    {
        AgentOptions? options = Program.Parse([]);

        Assert.NotNull(options);
        Assert.Equal("cpu", options.Device);
        Assert.Null(options.BrokerAddress);
        Assert.True(options.HugePageAllocation);
        Assert.False(Program.Parse(["--huge-pages", "false"])!.HugePageAllocation);
        Assert.Equal(0.9, options.EvictionThreshold);
        Assert.Equal(128, options.MaxQueuePerSlice);
    }

    [Theory]
    [InlineData("--broker", "broker:5050", "--broker 'broker:5050' is not an absolute http or https URL")]
    [InlineData("--compute", "1.5", "--compute needs a number in (0, 1], got '1.5'")]
    [InlineData("--eviction-threshold", "0", "--eviction-threshold needs a number in (0, 1], got '0'")]
    [InlineData("--memory-mib", "-3", "--memory-mib needs a positive whole number, got '-3'")]
    [InlineData("--frobnicate", "1", "unknown option '--frobnicate'")]
    [InlineData("--metrics-listen", "http://127.0.0.1:9464/stats", "--metrics-listen: metrics address 'http://127.0.0.1:9464/stats' is not an absolute http or https URL without a path (for example http://127.0.0.1:9464); /metrics is served there")]
    public void BadArgumentsSayWhatIsWrong(string name, string value, string message)
    {
        FormatException error = Assert.Throws<FormatException>(() => Program.Parse([name, value]));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData(new[] { "--slots", "2", "--slots", "4" }, "option --slots is given more than once")]
    [InlineData(new[] { "--agent-id=" }, "option --agent-id needs a non-empty value")]
    [InlineData(new[] { "--agent-id", "" }, "option --agent-id needs a non-empty value")]
    public void TheAgentReadsItsCommandLineByTheBrokersRules(string[] args, string message)
    {
        // One convention for both hosts: a repeated flag or an empty value is a mistake, not an override.
        FormatException error = Assert.Throws<FormatException>(() => Program.Parse(args));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void HelpReturnsNoOptions() => Assert.Null(Program.Parse(["--help"]));
}
