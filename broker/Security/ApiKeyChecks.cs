namespace AccelBroker.Broker.Security;

/// <summary>What stored API keys must satisfy, wherever they were read from (broker.db, or an imported api-keys.json).</summary>
internal static class ApiKeyChecks
{
    public static string? FindProblem(IReadOnlyList<ApiKeyRecord> keys)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ApiKeyRecord key in keys)
        {
            if (key.Id.Length != SecretCodec.IdLength || key.Hash.Length == 0 || !Enum.IsDefined(key.Role) || !ids.Add(key.Id))
            {
                // The id is public; the hash is never shown.
                return $"key '{key.Id}' is malformed or appears twice";
            }
        }

        return null;
    }
}
