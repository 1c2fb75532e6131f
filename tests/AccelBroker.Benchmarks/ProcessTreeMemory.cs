using System.Globalization;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Resident memory of a process and all its descendants, from /proc (Linux): an agent's slices run in worker processes
/// of their own, so the agent's footprint is its tree's, not its own process's.
/// </summary>
internal static class ProcessTreeMemory
{
    /// <summary>Sum of VmRSS over <paramref name="rootPid"/> and its descendants, in bytes; 0 once the process is gone.</summary>
    public static long ResidentBytes(int rootPid)
    {
        Dictionary<int, List<int>> children = ChildrenByParent();
        long total = 0;
        var pending = new Stack<int>();
        pending.Push(rootPid);
        var seen = new HashSet<int>();
        while (pending.Count > 0)
        {
            int pid = pending.Pop();
            if (!seen.Add(pid))
            {
                continue;
            }

            total += ResidentOf(pid);
            if (children.TryGetValue(pid, out List<int>? kids))
            {
                kids.ForEach(pending.Push);
            }
        }

        return total;
    }

    /// <summary>
    /// What one process's resident memory is made of: anonymous (heaps, native allocations, thread stacks), file-backed
    /// (mapped assemblies and libraries) and shared (on .NET, JIT-compiled code, which is mapped twice: W^X), and its
    /// thread count. Zeroes once the process is gone.
    /// </summary>
    public static MemoryParts PartsOf(int pid)
    {
        long anon = 0, file = 0, shmem = 0;
        int threads = 0;
        foreach (string line in ReadOrNull($"/proc/{pid}/status")?.Split('\n') ?? [])
        {
            string[] parts = line.Split(':', 2);
            if (parts.Length < 2)
            {
                continue;
            }

            string value = parts[1].Trim().Split(' ')[0];
            switch (parts[0])
            {
                case "RssAnon": anon = Kib(value); break;
                case "RssFile": file = Kib(value); break;
                case "RssShmem": shmem = Kib(value); break;
                case "Threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
            }
        }

        return new MemoryParts(anon, file, shmem, threads);
    }

    private static long Kib(string value) => long.Parse(value, CultureInfo.InvariantCulture) * 1024;

    private static Dictionary<int, List<int>> ChildrenByParent()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            string? stat = ReadOrNull(Path.Combine(directory, "stat"));
            // Fields after the command name, which is in parentheses and may itself hold spaces: state, ppid, ...
            int close = stat?.LastIndexOf(')') ?? -1;
            string[] fields = close < 0 ? [] : stat![(close + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent))
            {
                if (!children.TryGetValue(parent, out List<int>? list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
        }

        return children;
    }

    private static long ResidentOf(int pid)
    {
        string? status = ReadOrNull($"/proc/{pid}/status");
        foreach (string line in status?.Split('\n') ?? [])
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                string kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    // A process can end between listing /proc and reading its files.
    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>One process's resident memory by kind, in bytes, and its threads.</summary>
internal sealed record MemoryParts(long Anonymous, long FileBacked, long Shared, int Threads);
