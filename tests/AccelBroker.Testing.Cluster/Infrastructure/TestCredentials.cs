using System.Collections.Concurrent;
using Grpc.Core;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// The admin key of each broker a test started, by broker URL, in an owner-only file: the CLI helpers add
/// <c>--api-key-file</c> for a broker they know, so a test reads as an operator's command line with a key configured.
/// </summary>
public static class TestCredentials
{
    private static readonly ConcurrentDictionary<string, string> Files = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> Keys = new(StringComparer.Ordinal);

    /// <summary>The admin key registered for <paramref name="brokerUrl"/>.</summary>
    public static string KeyOf(string brokerUrl) =>
        Keys.TryGetValue(brokerUrl.TrimEnd('/'), out string? key) ? key : throw new InvalidOperationException($"no key registered for {brokerUrl}");

    /// <summary>For <c>CallInvoker.Intercept</c>: adds the broker's admin key to a call that brings no credential.</summary>
    public static Func<Metadata, Metadata> Adding(string brokerUrl)
    {
        string value = "Bearer " + KeyOf(brokerUrl);
        return headers =>
        {
            if (headers.Get("authorization") is null)
            {
                headers.Add("authorization", value);
            }

            return headers;
        };
    }

    /// <summary>Records <paramref name="adminKey"/> for <paramref name="brokerUrl"/>; returns the key file's path.</summary>
    public static string Register(string brokerUrl, string adminKey)
    {
        string path = Path.Combine(Path.GetTempPath(), $"accel-test-key-{Guid.NewGuid():N}");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(new FileStream(path, create)))
        {
            writer.Write(adminKey);
        }

        Files[brokerUrl.TrimEnd('/')] = path;
        Keys[brokerUrl.TrimEnd('/')] = adminKey;
        return path;
    }

    /// <summary>Forgets the broker and deletes its key file.</summary>
    public static void Forget(string brokerUrl)
    {
        Keys.TryRemove(brokerUrl.TrimEnd('/'), out _);
        if (Files.TryRemove(brokerUrl.TrimEnd('/'), out string? path))
        {
            File.Delete(path);
        }
    }

    /// <summary><paramref name="args"/> with <c>--api-key-file</c> added when they name a known broker and bring no key of their own.</summary>
    public static string[] WithKey(string[] args)
    {
        int broker = Array.IndexOf(args, "--broker");
        if (broker < 0 || broker + 1 >= args.Length || args.Contains("--api-key-file")
            || !Files.TryGetValue(args[broker + 1].TrimEnd('/'), out string? path))
        {
            return args;
        }

        return [.. args, "--api-key-file", path];
    }
}
