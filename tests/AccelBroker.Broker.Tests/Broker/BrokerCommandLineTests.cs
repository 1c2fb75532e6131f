using AccelBroker.Broker;
using Xunit;

namespace AccelBroker.Tests.Broker;

[Collection(ProcessConsoleCollection.Name)]
public sealed class BrokerCommandLineTests
{
    [Fact]
    public void NoArgumentsGiveTheDefaults()
    {
        BrokerCommandLine parsed = BrokerCommandLine.Parse([]);

        Assert.Equal(new BrokerOptions { MetricsListen = "http://127.0.0.1:9464" }, parsed.Options);
        Assert.False(parsed.ShowHelp);
        Assert.Null(parsed.Error);
    }

    [Fact]
    public void EveryOptionIsRead()
    {
        BrokerCommandLine parsed = BrokerCommandLine.Parse(
            ["--listen", "http://0.0.0.0:6000", "--catalog=cat.json", "--prices", "prices.json", "--data-dir", "/var/lib/accel", "--usage-save-interval", "30",
             "--heartbeat-interval", "0.5", "--metrics-listen", "http://0.0.0.0:9100"]);

        Assert.Equal(
            new BrokerOptions
            {
                Listen = "http://0.0.0.0:6000", CatalogPath = "cat.json", PricesPath = "prices.json", DataDir = "/var/lib/accel",
                UsageSaveInterval = TimeSpan.FromSeconds(30), HeartbeatInterval = TimeSpan.FromMilliseconds(500), MetricsListen = "http://0.0.0.0:9100",
            },
            parsed.Options);
    }

    [Fact]
    public void MetricsCanBeTurnedOff()
    {
        Assert.Null(BrokerCommandLine.Parse(["--metrics-listen", "off"]).Options!.MetricsListen);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void HelpIsRecognized(string arg)
    {
        Assert.True(BrokerCommandLine.Parse(["--listen", "http://127.0.0.1:1", arg]).ShowHelp);
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    [InlineData(new[] { "--listen" }, "option --listen needs a value")]
    [InlineData(new[] { "--listen", "--catalog", "x" }, "option --listen needs a value")]
    [InlineData(new[] { "--listen=" }, "option --listen needs a non-empty value")]
    [InlineData(new[] { "--listen", "127.0.0.1:5050" }, "--listen '127.0.0.1:5050' is not an absolute http or https URL (for example http://127.0.0.1:5050)")]
    [InlineData(new[] { "--heartbeat-interval", "0" }, "--heartbeat-interval '0' is not a positive number of seconds")]
    [InlineData(new[] { "--heartbeat-interval", "soon" }, "--heartbeat-interval 'soon' is not a positive number of seconds")]
    [InlineData(new[] { "--usage-save-interval", "-1" }, "--usage-save-interval '-1' is not a positive number of seconds")]
    [InlineData(new[] { "--usage-save-interval", "NaN" }, "--usage-save-interval 'NaN' is not a positive number of seconds")]
    [InlineData(new[] { "--data-dir", "a", "--data-dir", "b" }, "option --data-dir is given more than once")]
    [InlineData(new[] { "--metrics-listen", "127.0.0.1:9464" }, "--metrics-listen: metrics address '127.0.0.1:9464' is not an absolute http or https URL without a path (for example http://127.0.0.1:9464); /metrics is served there")]
    [InlineData(new[] { "--metrics-listen", "http://127.0.0.1:9464/metrics" }, "--metrics-listen: metrics address 'http://127.0.0.1:9464/metrics' is not an absolute http or https URL without a path (for example http://127.0.0.1:9464); /metrics is served there")]
    public void BadArgumentsAreExplained(string[] args, string error)
    {
        BrokerCommandLine parsed = BrokerCommandLine.Parse(args);

        Assert.Null(parsed.Options);
        Assert.Equal(error, parsed.Error);
    }

    [Fact]
    public async Task MainExitsWithTwoOnBadArguments()
    {
        TextWriter error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(2, await Program.Main(["--bogus"]));
        }
        finally
        {
            Console.SetError(error);
        }

        Assert.Contains("unknown option '--bogus'", captured.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:0", "metrics address 'ftp://127.0.0.1:0' is not an absolute http or https URL without a path")]
    [InlineData("http://127.0.0.1:0/stats", "metrics address 'http://127.0.0.1:0/stats' is not an absolute http or https URL without a path")]
    [InlineData("http://127.0.0.1:5050", "metrics address 'http://127.0.0.1:5050' must differ from the listen address 'http://127.0.0.1:5050'")]
    public void AnInvalidMetricsAddressFailsTheBuild(string metricsListen, string message)
    {
        var options = new BrokerOptions { Listen = "http://127.0.0.1:5050", MetricsListen = metricsListen };

        BrokerConfigurationException error = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(options));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MainExitsWithTwoOnAnInvalidMetricsAddress()
    {
        TextWriter error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(2, await Program.Main(["--listen", "http://127.0.0.1:0", "--metrics-listen", "metrics:9464"]));
        }
        finally
        {
            Console.SetError(error);
        }

        Assert.Contains("broker: --metrics-listen: metrics address 'metrics:9464' is not an absolute http or https URL", captured.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MainExitsWithOneOnAnInvalidCatalog()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accelbroker-missing-{Guid.NewGuid():N}.json");
        TextWriter error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(1, await Program.Main(["--listen", "http://127.0.0.1:0", "--catalog", path]));
        }
        finally
        {
            Console.SetError(error);
        }

        Assert.Contains($"catalog file '{path}' cannot be read", captured.ToString(), StringComparison.Ordinal);
    }
}
