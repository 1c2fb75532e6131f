using System.Runtime.InteropServices;

namespace AccelBroker.Agent.Isolation;

/// <summary>The few libc calls a worker process needs that .NET does not expose.</summary>
internal static partial class LibC
{
    /// <summary>
    /// Ends this process as soon as its parent (the agent) is gone, however it went. Not PR_SET_PDEATHSIG: that
    /// fires when the *thread* that started the process exits, and the agent starts workers from thread-pool
    /// threads, which retire when idle (a 5,000-case corpus run lost a healthy neighbour's worker to it, SIGKILL).
    /// A watchdog thread notices the reparenting instead; a worker between commands also ends when its input closes.
    /// </summary>
    public static void DieWithParent(int parentProcessId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var watchdog = new Thread(() =>
        {
            while (getppid() == parentProcessId)
            {
                Thread.Sleep(250);
            }

            _exit(0);
        })
        { IsBackground = true, Name = "parent watchdog" };
        watchdog.Start();
    }

    /// <summary>
    /// Takes file descriptor 1 for the protocol and points stdout at stderr, so nothing that native code prints
    /// can corrupt a message.
    /// </summary>
    public static Stream TakeStdoutForProtocol()
    {
        int protocol = dup(1);
        if (protocol < 0 || dup2(2, 1) < 0)
        {
            throw new IOException($"cannot set up the worker's protocol stream (errno {Marshal.GetLastPInvokeError()})");
        }

        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(protocol, ownsHandle: true), FileAccess.Write, bufferSize: 0);
    }

    /// <summary>Returns freed heap memory to the system, so an unloaded model's pages leave the worker's resident set.</summary>
    public static void TrimHeap()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = malloc_trim(0);
        }
    }

    [LibraryImport("libc")]
    private static partial int getppid();

    [LibraryImport("libc")]
    private static partial void _exit(int status);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
