using AccelBroker.Agent;
using AccelBroker.Hosting.CommandLine;
using AccelBroker.Tests.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The agent's settings from appsettings.json, ACCELBROKER_AGENT__ variables and flags, in that order of precedence.</summary>
public sealed class AgentSettingsTests
{
    [Fact]
    public void TheFlagWinsOverTheEnvironmentWhichWinsOverTheFile()
    {
        using SettingSources sources = new SettingSources()
            .File("Agent", new Dictionary<string, object> { ["InstanceType"] = "from-file", ["AgentId"] = "from-file", ["Device"] = "from-file", ["Compute"] = 0.25 })
            .Environment("ACCELBROKER_AGENT__AGENTID", "from-env")
            .Environment("ACCELBROKER_AGENT__DEVICE", "from-env");

        AgentOptions? options = AgentCommandLine.Parse(["--device", "from-flag"], sources.Load());

        Assert.NotNull(options);
        Assert.Equal("from-file", options.InstanceType);
        Assert.Equal(0.25, options.Compute);
        Assert.Equal("from-env", options.AgentId);
        Assert.Equal("from-flag", options.Device);
    }

    [Theory]
    [InlineData("Compute", "--compute", "1.5", "--compute needs a number in (0, 1], got '1.5'")]
    [InlineData("MemoryMib", "--memory-mib", "-3", "--memory-mib needs a positive whole number, got '-3'")]
    [InlineData("Broker", "--broker", "broker:5050", "--broker 'broker:5050' is not an absolute http or https URL")]
    [InlineData("MaxQueuePerSlice", "--max-queue-per-slice", "0", "--max-queue-per-slice needs a positive whole number, got '0'")]
    [InlineData("MaxQueuePerSlice", "--max-queue-per-slice", "-1", "--max-queue-per-slice needs a positive whole number, got '-1'")]
    public void ABadValueGetsTheSameErrorFromEverySource(string key, string flag, string value, string message)
    {
        string fromFlag = Assert.Throws<FormatException>(() => AgentCommandLine.Parse([flag, value], Empty())).Message;
        using SettingSources file = new SettingSources().File("Agent", new Dictionary<string, object> { [key] = value });
        string fromFile = Assert.Throws<FormatException>(() => AgentCommandLine.Parse([], file.Load())).Message;
        using SettingSources environment = new SettingSources().Environment("ACCELBROKER_AGENT__" + key.ToUpperInvariant(), value);
        string fromEnvironment = Assert.Throws<FormatException>(() => AgentCommandLine.Parse([], environment.Load())).Message;

        Assert.Equal(message, fromFlag);
        Assert.Equal(message, fromFile);
        Assert.Equal(message, fromEnvironment);
    }

    [Fact]
    public async Task ABadValueFromTheEnvironmentExitsWithTwoAndSaysWhatIsWrong()
    {
        using SettingSources sources = new SettingSources().Environment("ACCELBROKER_AGENT__EVICTIONTHRESHOLD", "0");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await Program.Run([], sources.Load(), output, error);

        Assert.Equal(2, exit);
        Assert.Equal($"error: --eviction-threshold needs a number in (0, 1], got '0'{Environment.NewLine}Run with --help for usage.{Environment.NewLine}", error.ToString());
    }

    [Fact]
    public async Task AQueueLimitOfZeroIsRefusedAtStartWithExitCodeTwo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await Program.Run(["--max-queue-per-slice", "0"], Empty(), output, error);

        Assert.Equal(2, exit);
        Assert.Equal($"error: --max-queue-per-slice needs a positive whole number, got '0'{Environment.NewLine}Run with --help for usage.{Environment.NewLine}", error.ToString());
    }

    [Fact]
    public void AQueueLimitBelowOneSetInCodeIsRefusedWhenTheAgentIsBuilt()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions { MaxQueuePerSlice = 0 }));

        Assert.StartsWith("--max-queue-per-slice needs a positive whole number, got 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownSettingIsRefused()
    {
        using SettingSources sources = new SettingSources().Environment("ACCELBROKER_AGENT__LISTN", "http://127.0.0.1:1");

        FormatException error = Assert.Throws<FormatException>(() => AgentCommandLine.Parse([], sources.Load()));

        Assert.StartsWith("unknown setting 'LISTN' (ACCELBROKER_AGENT__LISTN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryOptionIsReachableAsASetting()
    {
        Assert.Empty(SettingSources.Unreached(AgentSettings.All, AgentSettings.Bind));
    }

    [Fact]
    public void EveryFlagMeansWhatItsSettingMeans()
    {
        foreach (HostSetting<AgentOptions> setting in AgentSettings.All.Where(s => s.Flag is not null))
        {
            string[] args = setting.ValueName is null ? [setting.Flag!] : [setting.Flag!, setting.Sample];
            IConfiguration configured = new ConfigurationBuilder()
                .AddInMemoryCollection([KeyValuePair.Create($"Agent:{setting.Key}", (string?)setting.Sample)])
                .Build();

            Assert.Equal(AgentCommandLine.Parse([], configured), Program.Parse(args));
        }
    }

    [Fact]
    public async Task HelpIsGeneratedAndListsEveryFlag()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, await Program.Run(["--help"], Empty(), output, error));

        Assert.Contains("Usage:", output.ToString(), StringComparison.Ordinal);
        foreach (HostSetting<AgentOptions> setting in AgentSettings.All.Where(s => s.Flag is not null))
        {
            Assert.Contains(setting.Flag!, output.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal("", error.ToString());
    }

    [Theory]
    [InlineData(new[] { "--tls-client-cert", "agent-client.crt" }, "error: --tls-client-cert needs --tls-client-key")]
    [InlineData(new[] { "--tls-client-key", "agent-client.key" }, "error: --tls-client-key needs --tls-client-cert")]
    [InlineData(new[] { "--client-ca-file", "ca.crt" }, "error: --client-ca-file requires client certificates, which only TLS carries, but --listen 'http://127.0.0.1:7001' is http")]
    public async Task MutualTlsFlagsThatDoNotGoTogetherStopTheStartWithTheFlagNamed(string[] args, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await Program.Run([.. args, "--metrics-listen", "off"], Empty(), output, error);

        Assert.Equal(1, exit);
        Assert.StartsWith(message, error.ToString(), StringComparison.Ordinal);
    }

    private static IConfiguration Empty() => new ConfigurationBuilder().Build();
}
