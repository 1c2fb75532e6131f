using System.CommandLine;
using Grpc.Core;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>Runs a verb's action and turns every failure into one line on stderr and a non-zero exit.</summary>
internal static class CommandRunner
{
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await action(parse, cancellationToken);
            }
            catch (CliUsageException ex)
            {
                return Fail(ex.Message, UsageExitCode);
            }
            catch (RpcException ex)
            {
                return Fail($"{ex.StatusCode}: {ex.Status.Detail}");
            }
            catch (Exception ex) when (ex is CliException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or NotSupportedException)
            {
                return Fail(ex.Message);
            }
        });

    /// <summary>Exit code of a verb given arguments it cannot use (the shell convention for misuse).</summary>
    public const int UsageExitCode = 2;

    private static int Fail(string message, int exitCode = 1)
    {
        Console.Error.WriteLine($"accel: error: {message.ReplaceLineEndings(" ")}");
        return exitCode;
    }
}
