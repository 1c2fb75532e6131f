using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AccelBroker.Broker.Storage.Import;

/// <summary>Reads one JSON document an earlier broker kept in the data directory, for the one-time import into broker.db.</summary>
internal static class LegacyJsonFile
{
    /// <summary>The document, or <see langword="null"/> when there is no file.</summary>
    /// <exception cref="BrokerConfigurationException">The file cannot be read or is not valid JSON of its kind.</exception>
    public static T? Read<T>(string path, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using FileStream stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, typeInfo)
                ?? throw new BrokerConfigurationException($"file '{path}' is empty");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"file '{path}' cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new BrokerConfigurationException($"file '{path}' is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>Throws unless <paramref name="version"/> is the one the file format had.</summary>
    public static void CheckVersion(string path, int version, int expected)
    {
        if (version != expected)
        {
            throw new BrokerConfigurationException($"file '{path}' has version {version}; this broker imports version {expected}");
        }
    }
}
