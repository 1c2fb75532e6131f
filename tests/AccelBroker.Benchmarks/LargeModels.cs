using System.Diagnostics;

namespace AccelBroker.Benchmarks;

/// <summary>
/// The git-ignored models under .models: when one is missing, tests/models/make-large-models.sh builds
/// them all (once per run; a minute or two the first time).
/// </summary>
internal sealed class LargeModels
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(20);
    private readonly RepoPaths _paths;
    private Task<string?>? _generation;

    public LargeModels(RepoPaths paths)
    {
        _paths = paths;
    }

    /// <summary>Returns the path of <paramref name="fileName"/> under .models, generating it when missing.</summary>
    /// <exception cref="SkipBenchmarkException">The script failed or did not produce the file.</exception>
    public async Task<string> RequireAsync(string fileName, CancellationToken cancellationToken)
    {
        string path = _paths.LargeModel(fileName);
        if (File.Exists(path))
        {
            return path;
        }

        _generation ??= GenerateAsync(cancellationToken);
        string? failure = await _generation;
        if (failure is not null)
        {
            throw new SkipBenchmarkException($"{fileName} is missing and {_paths.LargeModelsScript} failed: {failure}");
        }

        return File.Exists(path)
            ? path
            : throw new SkipBenchmarkException($"{_paths.LargeModelsScript} finished but did not write {path}");
    }

    // Returns null on success, else why it failed.
    private async Task<string?> GenerateAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"  generating large models: {_paths.LargeModelsScript} (may take 1-2 minutes)");
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = _paths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // No terminal input: a sudo password prompt then fails the script instead of hanging the run.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(_paths.LargeModelsScript);
        start.ArgumentList.Add(_paths.LargeModelsDirectory);

        var started = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Echo(e.Data);
        process.ErrorDataReceived += (_, e) => Echo(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"cannot start bash: {ex.Message}";
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return $"did not finish within {ScriptTimeout.TotalMinutes:0} minutes";
        }

        Console.WriteLine($"  make-large-models.sh exited with {process.ExitCode} after {started.Elapsed.TotalSeconds:0} s");
        return process.ExitCode == 0 ? null : $"exit code {process.ExitCode}";
    }

    private static void Echo(string? line)
    {
        if (line is not null)
        {
            Console.WriteLine($"    | {line}");
        }
    }
}
