using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AccelBroker.Broker.Internal;

/// <summary>
/// One JSON document in the data directory, readable by the broker's user only (0600): hashes of credentials
/// are not secrets, but who may enrol is nobody else's business. Saves are atomic (temporary file, flush, rename).
/// </summary>
internal sealed class PrivateJsonFile<T>(string dataDir, string fileName, JsonTypeInfo<T> typeInfo)
    where T : class
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string FilePath { get; } = Prepare(dataDir, fileName);

    public T? Load()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        try
        {
            using FileStream stream = File.OpenRead(FilePath);
            return JsonSerializer.Deserialize(stream, typeInfo)
                ?? throw new BrokerConfigurationException($"file '{FilePath}' is empty");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"file '{FilePath}' cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new BrokerConfigurationException($"file '{FilePath}' is not valid: {ex.Message}", ex);
        }
    }

    public void Save(T document)
    {
        string temporary = $"{FilePath}.{Guid.NewGuid():N}.tmp";
        try
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(temporary, create))
            {
                JsonSerializer.Serialize(stream, document, typeInfo);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static string Prepare(string dataDir, string fileName)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BrokerConfigurationException($"data directory '{dataDir}' cannot be created: {ex.Message}", ex);
        }

        return Path.Combine(dataDir, fileName);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a stray temporary file is left; the next save writes a new one.
        }
    }
}
