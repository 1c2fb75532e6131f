namespace AccelBroker.Hosting.Startup;

/// <summary>
/// <c>--address-file</c>: the bound gRPC address written to a file once Kestrel listens, so a supervisor or a test that
/// started the host with port 0 learns the port without reading logs. Written to a temporary name and renamed, so
/// a reader never sees half of it.
/// </summary>
public static class AddressFile
{
    /// <summary>Writes <paramref name="address"/> (one line) to <paramref name="path"/>.</summary>
    public static void Write(string path, string address)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = $"{full}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, address + "\n");
        File.Move(temporary, full, overwrite: true);
    }
}
