using AccelBroker.Hosting.Errors;

namespace AccelBroker.Broker.Security;

/// <summary>
/// The one owner of API keys and host credentials: creates them (returning the secret once), lists, revokes and
/// authenticates. Every change is saved before it is visible, so a revocation that was answered is in the store,
/// and an authentication after it fails at once.
/// </summary>
internal sealed class ApiKeyBook
{
    public const string KeyPrefix = "abk";
    public const string HostPrefix = "abh";
    private const int MaxNameLength = 128;

    private readonly IApiKeyStore _store;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ApiKeyRecord> _byId;

    public ApiKeyBook(IApiKeyStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        _byId = store.Load().ToDictionary(k => k.Id, StringComparer.Ordinal);
    }

    /// <summary>Whether a live admin key exists (the broker offers to create the first one when none does).</summary>
    public bool HasLiveAdmin
    {
        get
        {
            lock (_gate)
            {
                return _byId.Values.Any(k => k.IsLive && k.Role == AccessRole.Admin);
            }
        }
    }

    /// <summary>Creates an operator key; returns its record and the secret, which nothing keeps.</summary>
    public (ApiKeyRecord Key, string Secret) Create(string name, AccessRole role, string? createdBy)
    {
        if (role is not (AccessRole.Viewer or AccessRole.Operator or AccessRole.Admin))
        {
            throw DomainException.Invalid("an API key's role must be viewer, operator or admin");
        }

        CheckName(name);
        return Add(KeyPrefix, name, role, host: null, createdBy);
    }

    /// <summary>
    /// The credential for <paramref name="host"/>: a new one when it has none or <paramref name="replace"/> is set
    /// (revoking the old one), else <see langword="null"/> (the host keeps the credential it was given).
    /// </summary>
    public (ApiKeyRecord Key, string Secret)? IssueHostCredential(string host, bool replace)
    {
        lock (_gate)
        {
            ApiKeyRecord[] live = [.. _byId.Values.Where(k => k.IsLive && k.Role == AccessRole.Host && k.Host == host)];
            if (live.Length > 0 && !replace)
            {
                return null;
            }

            DateTimeOffset now = _time.GetUtcNow();
            var next = new Dictionary<string, ApiKeyRecord>(_byId, StringComparer.Ordinal);
            foreach (ApiKeyRecord old in live)
            {
                next[old.Id] = old with { RevokedAt = now };
            }

            (string id, string secret) = SecretCodec.Create(HostPrefix);
            var record = new ApiKeyRecord(id, host, AccessRole.Host, host, SecretCodec.Hash(secret), now, null, null);
            next[id] = record;
            Commit(next);
            return (record, secret);
        }
    }

    /// <summary>Revokes the live credentials of <paramref name="host"/>; returns how many there were.</summary>
    public int RevokeHost(string host)
    {
        lock (_gate)
        {
            ApiKeyRecord[] live = [.. _byId.Values.Where(k => k.IsLive && k.Role == AccessRole.Host && k.Host == host)];
            if (live.Length == 0)
            {
                return 0;
            }

            DateTimeOffset now = _time.GetUtcNow();
            var next = new Dictionary<string, ApiKeyRecord>(_byId, StringComparer.Ordinal);
            foreach (ApiKeyRecord old in live)
            {
                next[old.Id] = old with { RevokedAt = now };
            }

            Commit(next);
            return live.Length;
        }
    }

    /// <summary>Every key, oldest first; revoked ones only when asked.</summary>
    public IReadOnlyList<ApiKeyRecord> List(bool includeRevoked)
    {
        lock (_gate)
        {
            return [.. _byId.Values.Where(k => includeRevoked || k.IsLive).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>Revokes the key with <paramref name="id"/>; it stops authenticating now. Revoking twice is not an error.</summary>
    public ApiKeyRecord Revoke(string id)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out ApiKeyRecord? key))
            {
                throw DomainException.NotFound($"no API key with id '{id}'");
            }

            if (!key.IsLive)
            {
                return key;
            }

            ApiKeyRecord revoked = key with { RevokedAt = _time.GetUtcNow() };
            Commit(new Dictionary<string, ApiKeyRecord>(_byId, StringComparer.Ordinal) { [id] = revoked });
            return revoked;
        }
    }

    /// <summary>The caller a presented secret stands for; <see langword="null"/> when it is malformed, unknown or revoked.</summary>
    public Caller? Authenticate(string presented)
    {
        string prefix = presented.StartsWith(HostPrefix + "_", StringComparison.Ordinal) ? HostPrefix : KeyPrefix;
        if (!SecretCodec.TryGetId(presented, prefix, out string id))
        {
            return null;
        }

        ApiKeyRecord? key;
        lock (_gate)
        {
            _byId.TryGetValue(id, out key);
        }

        // The prefix must match the record's kind: a host credential cannot pass for an operator key by renaming it.
        bool kindMatches = key is not null && (key.Role == AccessRole.Host) == (prefix == HostPrefix);
        return key is { IsLive: true } && kindMatches && SecretCodec.Matches(presented, key.Hash)
            ? new Caller(key.Id, key.Name, key.Role, key.Host)
            : null;
    }

    private (ApiKeyRecord Key, string Secret) Add(string prefix, string name, AccessRole role, string? host, string? createdBy)
    {
        (string id, string secret) = SecretCodec.Create(prefix);
        var record = new ApiKeyRecord(id, name, role, host, SecretCodec.Hash(secret), _time.GetUtcNow(), createdBy, null);
        lock (_gate)
        {
            Commit(new Dictionary<string, ApiKeyRecord>(_byId, StringComparer.Ordinal) { [id] = record });
        }

        return (record, secret);
    }

    // Saved first: a key is usable (or revoked) only once the store holds it.
    private void Commit(Dictionary<string, ApiKeyRecord> next)
    {
        _store.Save([.. next.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)]);
        _byId.Clear();
        foreach ((string id, ApiKeyRecord key) in next)
        {
            _byId[id] = key;
        }
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw DomainException.Invalid($"an API key needs a name of 1 to {MaxNameLength} printable characters");
        }
    }
}
