using System.CommandLine;
using System.Security.Cryptography;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>Model hashes given by value (<c>--allow-model</c>, <c>--model</c>) or by file, which the CLI hashes.</summary>
internal static class AllowedModelOptions
{
    public static Option<string[]> Hashes(string name) => new(name)
    {
        Description = "SHA-256 (64 hex digits) of a model file the accelerator may load; repeat for more",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string[]> Files(string name) => new(name)
    {
        Description = "A TorchScript model file (.pt) the accelerator may load, hashed here; repeat for more",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The hashes given, then those of the files given, in order; the broker checks and normalises them.</summary>
    /// <exception cref="CliUsageException">A file that does not exist.</exception>
    public static async Task<List<string>> ReadAsync(ParseResult parse, Option<string[]> hashes, Option<string[]> files, CancellationToken cancellationToken)
    {
        List<string> all = [.. parse.GetValue(hashes) ?? []];
        foreach (string path in parse.GetValue(files) ?? [])
        {
            if (!File.Exists(path))
            {
                throw new CliUsageException($"model file '{path}' does not exist");
            }

            await using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            all.Add(Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken)));
        }

        return all;
    }
}
