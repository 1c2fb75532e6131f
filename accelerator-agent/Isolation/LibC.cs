using System.Runtime.InteropServices;

namespace AccelBroker.Agent.Isolation;

/// <summary>The few libc calls a worker process needs that .NET does not expose.</summary>
internal static partial class LibC
{
    private const int PrSetPdeathsig = 1;
    private const int SigKill = 9;

    /// <summary>Has the kernel kill this process when its parent (the agent) dies, however it dies.</summary>
    public static void DieWithParent()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = prctl(PrSetPdeathsig, SigKill, 0, 0, 0);
        }
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
