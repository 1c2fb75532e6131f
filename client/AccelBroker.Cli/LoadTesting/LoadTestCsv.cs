using System.Globalization;
using System.Text;

namespace AccelBroker.Cli.LoadTesting;

/// <summary><c>accel loadtest --csv</c>: one row per stage; failures by status as <c>Status=count</c> joined with ';'.</summary>
internal static class LoadTestCsv
{
    public const string Header = "stage,ends_at_s,target_users,spawn_rate,users_at_end,max_users,seconds,complete,requests,successes,failures,requests_per_second,p50_ms,p95_ms,p99_ms,mean_ms,failures_by_status";

    public static void Write(string path, IReadOnlyList<StageResult> stages)
    {
        var text = new StringBuilder().AppendLine(Header);
        foreach (StageResult s in stages)
        {
            text.AppendLine(string.Join(',',
                Number(s.Stage),
                Number(s.EndsAtS),
                Number(s.TargetUsers),
                Number(s.SpawnRate),
                Number(s.UsersAtEnd),
                Number(s.MaxUsers),
                Number(s.Seconds),
                s.Complete ? "true" : "false",
                Number(s.Requests),
                Number(s.Successes),
                Number(s.FailureCount),
                Number(s.RequestsPerSecond),
                Number(s.LatencyMs?.P50Ms),
                Number(s.LatencyMs?.P95Ms),
                Number(s.LatencyMs?.P99Ms),
                Number(s.LatencyMs?.MeanMs),
                string.Join(';', s.Failures.Select(f => $"{f.Key}={Number(f.Value)}"))));
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Number(double? value) => value is { } v ? v.ToString("0.######", CultureInfo.InvariantCulture) : "";
}
