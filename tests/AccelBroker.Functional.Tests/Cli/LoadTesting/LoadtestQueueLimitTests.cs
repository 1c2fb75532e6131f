using System.Globalization;
using System.Text.Json;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary>
/// Max users before the first failure, found on a real agent with one execution slot and a queue of two runs per slice:
/// each user has one request in flight, so 2 users never have more than two runs waiting and stages of 1 and 2 users
/// never fail (with a queue of one they can: a user's next run may arrive while the other's still waits for the slot
/// the first just left); 8 users are refused with ResourceExhausted, as the agent answers runs past
/// <c>--max-queue-per-slice</c>.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class LoadtestQueueLimitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task MaxUsersBeforeTheFirstFailureIsTheLastStageWithinTheSlicesQueueLimit()
    {
        await using OneAgentFleet started = await OneAgentFleet.StartAsync("agent-queue", Limit, "--slots", "1", "--max-queue-per-slice", "2");
        const string host = "host-queue";
        Accelerator attached = await started.Client.AttachAsync(host, "eia2.medium");
        string stages = Path.Combine(started.Processes.Root, "stages.json");
        await File.WriteAllTextAsync(stages, """[{"duration": 2, "users": 1, "spawn_rate": 50}, {"duration": 4, "users": 2, "spawn_rate": 50}, {"duration": 7, "users": 8, "spawn_rate": 50}]""");

        CliProcess.Result result = await CliProcess.RunAsync(
            "loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--copies", "2", "--input-shape", "2000,16", "--stages", stages,
            "--host", host, "--ordinal", attached.Ordinal.ToString(CultureInfo.InvariantCulture), "--json",
            "--broker", started.Broker.Address, "--api-key-file", started.KeyFile);

        Assert.True(result.ExitCode == 0, $"{result.StdErr}\n{started.Processes.Logs()}");
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] stageResults = [.. json.RootElement.GetProperty("stages").EnumerateArray()];
        Assert.Equal(3, stageResults.Length);
        Assert.All(stageResults.Take(2), s => Assert.Empty(s.GetProperty("failures").EnumerateObject()));
        Assert.True(stageResults[2].GetProperty("failures").GetProperty("ResourceExhausted").GetInt32() > 0, stageResults[2].ToString());
        JsonElement summary = json.RootElement.GetProperty("summary");
        Assert.Equal(2, summary.GetProperty("max_users_before_first_failure").GetInt32());
        Assert.Equal(3, summary.GetProperty("first_stage_with_failure").GetInt32());
        JsonElement first = summary.GetProperty("first_failure");
        Assert.Equal("ResourceExhausted", first.GetProperty("status").GetString());
        Assert.True(first.GetProperty("users").GetInt32() > 2, first.ToString());
    }
}
