using AccelBroker.Broker;
using AccelBroker.Hosting.CommandLine;
using AccelBroker.Tests.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace AccelBroker.Tests.Broker;

/// <summary>The broker's settings from appsettings.json, ACCELBROKER_BROKER__ variables and flags, in that order of precedence.</summary>
public sealed class BrokerSettingsTests
{
    [Fact]
    public void TheFlagWinsOverTheEnvironmentWhichWinsOverTheFile()
    {
        using SettingSources sources = new SettingSources()
            .File("Broker", new Dictionary<string, object> { ["Catalog"] = "file.json", ["Prices"] = "file.json", ["HeartbeatInterval"] = 7, ["MetricsListen"] = "off" })
            .Environment("ACCELBROKER_BROKER__PRICES", "env.json")
            .Environment("ACCELBROKER_BROKER__HEARTBEATINTERVAL", "3");

        BrokerCommandLine parsed = BrokerCommandLine.Parse(["--heartbeat-interval", "0.5"], sources.Load());

        Assert.Null(parsed.Error);
        Assert.Equal(
            new BrokerOptions { CatalogPath = "file.json", PricesPath = "env.json", HeartbeatInterval = TimeSpan.FromMilliseconds(500), MetricsListen = null },
            parsed.Options);
    }

    [Theory]
    [InlineData("HeartbeatInterval", "--heartbeat-interval", "0", "--heartbeat-interval '0' is not a positive number of seconds")]
    [InlineData("Listen", "--listen", "127.0.0.1:5050", "--listen '127.0.0.1:5050' is not an absolute http or https URL (for example http://127.0.0.1:5050)")]
    [InlineData("MetricsListen", "--metrics-listen", "127.0.0.1:9464", "--metrics-listen: metrics address '127.0.0.1:9464' is not an absolute http or https URL without a path (for example http://127.0.0.1:9464); /metrics is served there")]
    public void ABadValueGetsTheSameErrorFromEverySource(string key, string flag, string value, string message)
    {
        string? fromFlag = BrokerCommandLine.Parse([flag, value], new ConfigurationBuilder().Build()).Error;
        using SettingSources file = new SettingSources().File("Broker", new Dictionary<string, object> { [key] = value });
        string? fromFile = BrokerCommandLine.Parse([], file.Load()).Error;
        using SettingSources environment = new SettingSources().Environment("ACCELBROKER_BROKER__" + key.ToUpperInvariant(), value);
        string? fromEnvironment = BrokerCommandLine.Parse([], environment.Load()).Error;

        Assert.Equal(message, fromFlag);
        Assert.Equal(message, fromFile);
        Assert.Equal(message, fromEnvironment);
    }

    [Fact]
    public async Task ABadValueFromTheFileExitsWithTwoAndSaysWhatIsWrong()
    {
        using SettingSources sources = new SettingSources().File("Broker", new Dictionary<string, object> { ["UsageSaveInterval"] = "soon" });
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await Program.Run([], sources.Load(), output, error);

        Assert.Equal(2, exit);
        Assert.Equal($"broker: --usage-save-interval 'soon' is not a positive number of seconds{Environment.NewLine}Run with --help for usage.{Environment.NewLine}", error.ToString());
    }

    [Theory]
    [InlineData("http://127.0.0.1:5050", null, false)]
    [InlineData("http://localhost:5050", null, false)]
    [InlineData("https://0.0.0.0:5050", null, true)]
    [InlineData("https://10.0.0.5:5050", null, true)]
    [InlineData("https://0.0.0.0:5050", false, false)]
    [InlineData("http://127.0.0.1:5050", true, true)]
    public void AgentsMustBeEnrolledByDefaultWheneverTheBrokerListensBeyondLoopback(string listen, bool? setting, bool required) =>
        Assert.Equal(required, new BrokerOptions { Listen = listen, RequireAgentEnrollment = setting }.AgentEnrollmentRequired);

    [Fact]
    public void EnrolmentIsTurnedOnByTheFlagAndOffOnlyExplicitlyByConfiguration()
    {
        IConfiguration off = new ConfigurationBuilder()
            .AddInMemoryCollection([KeyValuePair.Create("Broker:RequireAgentEnrollment", (string?)"false")])
            .Build();
        Assert.False(BrokerCommandLine.Parse([], off).Options!.RequireAgentEnrollment);
        Assert.True(BrokerCommandLine.Parse(["--require-agent-enrollment"]).Options!.RequireAgentEnrollment);
        Assert.Null(BrokerCommandLine.Parse([]).Options!.RequireAgentEnrollment);
    }

    [Fact]
    public void EveryOptionIsReachableAsASetting()
    {
        Assert.Empty(SettingSources.Unreached(BrokerSettings.All, BrokerSettings.Bind));
    }

    [Fact]
    public void EveryFlagMeansWhatItsSettingMeans()
    {
        foreach (HostSetting<BrokerOptions> setting in BrokerSettings.All.Where(s => s.Flag is not null))
        {
            IConfiguration configured = new ConfigurationBuilder()
                .AddInMemoryCollection([KeyValuePair.Create($"Broker:{setting.Key}", (string?)setting.Sample)])
                .Build();

            // A switch (no value name) is given bare on the command line.
            string[] args = setting.ValueName is null ? [setting.Flag!] : [setting.Flag!, setting.Sample];
            Assert.Equal(BrokerCommandLine.Parse([], configured).Options, BrokerCommandLine.Parse(args).Options);
        }
    }

    [Fact]
    public async Task HelpIsGeneratedAndListsEveryFlag()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, await Program.Run(["-h"], new ConfigurationBuilder().Build(), output, error));

        Assert.Contains("Usage:", output.ToString(), StringComparison.Ordinal);
        foreach (HostSetting<BrokerOptions> setting in BrokerSettings.All.Where(s => s.Flag is not null))
        {
            Assert.Contains(setting.Flag!, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "--tls-client-cert", "broker-client.crt" }, "broker: --tls-client-cert needs --tls-client-key")]
    [InlineData(new[] { "--tls-client-key", "broker-client.key" }, "broker: --tls-client-key needs --tls-client-cert")]
    [InlineData(new[] { "--client-ca-file", "ca.crt" }, "broker: --client-ca-file requires client certificates, which only TLS carries, but --listen 'http://127.0.0.1:5050' is http")]
    public async Task MutualTlsFlagsThatDoNotGoTogetherStopTheStartWithTheFlagNamed(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await Program.Run([.. args, "--metrics-listen", "off"], new ConfigurationBuilder().Build(), output, error);

        Assert.Equal(1, exit);
        Assert.StartsWith(message, error.ToString(), StringComparison.Ordinal);
    }
}
