using System.Globalization;
using System.Text.Json;
using AccelBroker.Broker.Internal;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// <c>usage.json</c>, where brokers before broker.db kept the usage book: read once by the import, and the checks any
/// stored book must pass.
/// </summary>
internal sealed class UsageFile(string dataDir)
{
    public const string FileName = "usage.json";

    // Compact, unlike the other files: histograms have up to a thousand buckets, one line each when indented.
    private static readonly BrokerJsonContext s_json = new(new JsonSerializerOptions(BrokerJsonContext.Default.Options) { WriteIndented = false });

    public string FilePath { get; } = Path.Combine(dataDir, FileName);

    /// <summary>The saved book, or null when there is no file yet.</summary>
    /// <exception cref="InvalidDataException">The file cannot be read, is not valid, or has another version; the message says which.</exception>
    public UsageDocument? Read()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        UsageDocument? document;
        try
        {
            using FileStream stream = File.OpenRead(FilePath);
            document = JsonSerializer.Deserialize(stream, s_json.UsageDocument);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"not valid JSON: {ex.Message}", ex);
        }

        if (document is null || document.Version != UsageDocument.CurrentVersion)
        {
            throw new InvalidDataException($"version {document?.Version}; this broker reads version {UsageDocument.CurrentVersion}");
        }

        string? problem = FindProblem(document);
        return problem is null ? document : throw new InvalidDataException(problem);
    }

    /// <summary>Moves the file out of the way, keeping it for a look: <c>usage.json.unusable-20250101T120000Z</c>.</summary>
    /// <returns>Where it went.</returns>
    public string SetAside(DateTimeOffset now)
    {
        string aside = $"{FilePath}.unusable-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        File.Move(FilePath, aside, overwrite: false);
        return aside;
    }

    // The same checks reports passed on arrival: a hand-edited or damaged store must not make GetUsage fail later.
    public static string? FindProblem(UsageDocument document)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (AcceleratorUsageRecord accelerator in document.Accelerators)
        {
            string? problem = UsageChecks.FindIdProblem("accelerator_id", accelerator.AcceleratorId);
            if (problem is not null)
            {
                return problem;
            }

            string where = $"accelerator {accelerator.AcceleratorId}";
            if (!ids.Add(accelerator.AcceleratorId))
            {
                return $"{where} appears more than once";
            }

            problem = FindProblem(accelerator);
            if (problem is not null)
            {
                return $"{where}: {problem}";
            }
        }

        return null;
    }

    private static string? FindProblem(AcceleratorUsageRecord accelerator)
    {
        if (accelerator.Agent is { } agent)
        {
            string? problem = UsageChecks.FindIncarnationProblem(agent.Incarnation) ?? Check("agent", agent.Models, folded: false);
            if (problem is not null)
            {
                return problem;
            }
        }

        var clients = new HashSet<string>(StringComparer.Ordinal);
        foreach (ClientUsageRecord client in accelerator.Clients)
        {
            string? problem = UsageChecks.FindIdProblem("client_id", client.ClientId)
                ?? (clients.Add(client.ClientId) ? null : $"client {client.ClientId} appears more than once")
                ?? Check($"client {client.ClientId}", client.Models, folded: false);
            if (problem is not null)
            {
                return problem;
            }
        }

        return Check("agent base", accelerator.AgentBase, folded: true)
            ?? Check("retired clients", accelerator.RetiredClients, folded: true);
    }

    private static string? Check(string what, IReadOnlyList<ModelUsageRecord> models, bool folded)
    {
        List<ModelUsage> protos = [.. models.Select(m => m.ToProto())];
        string? problem = folded ? UsageChecks.FindFoldedProblem(protos) : UsageChecks.FindProblem(protos);
        return problem is null ? null : $"{what}: {problem}";
    }
}
