namespace AccelBroker.Cli.Infrastructure;

/// <summary>Writes a secret to a new file only its owner can read (0600 from the first byte); never overwrites one.</summary>
internal static class SecretFile
{
    public static void Write(string path, string secret)
    {
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, create);
            using var writer = new StreamWriter(stream);
            writer.Write(secret + "\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write '{path}': {ex.Message}");
        }
    }
}
