using System.Diagnostics;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>Runs the accel CLI as a separate process, as an operator would.</summary>
internal static class CliProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static async Task<Result> RunAsync(params string[] args)
    {
        args = TestCredentials.WithKey(args);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "accel.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("ACCEL_BROKER");
        start.Environment.Remove("ACCEL_HOST");
        start.Environment.Remove("ACCEL_API_KEY");
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start accel");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"accel {string.Join(' ', args)} did not finish within {Timeout}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
