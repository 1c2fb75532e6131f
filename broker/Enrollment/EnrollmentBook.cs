using System.Security.Cryptography;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Broker.Enrollment;

/// <summary>
/// Enrolment tokens and agent credentials. Every change happens under one lock and is saved before it is
/// visible, so a single-use token is consumed exactly once even when enrolments race.
/// </summary>
internal sealed class EnrollmentBook
{
    /// <summary>Longest enrolment token lifetime; a token is meant to bring up one agent, not to live on.</summary>
    public static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(30);

    /// <summary>Default enrolment token lifetime.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromHours(1);

    // Said for every refused token alike, so the answer tells nothing about which tokens exist.
    private const string TokenRefused = "enrolment token is unknown, expired or used up; create a new one with 'accel agents enroll'";

    private readonly Lock _lock = new();
    private readonly IEnrollmentTokenStore _tokenStore;
    private readonly IAgentCredentialStore _credentialStore;
    private readonly TimeProvider _time;
    private List<EnrollmentTokenRecord> _tokens;
    private List<AgentCredentialRecord> _credentials;

    public EnrollmentBook(IEnrollmentTokenStore tokenStore, IAgentCredentialStore credentialStore, TimeProvider time)
    {
        _tokenStore = tokenStore;
        _credentialStore = credentialStore;
        _time = time;
        _tokens = [.. tokenStore.Load()];
        _credentials = [.. credentialStore.Load()];
    }

    /// <summary>Creates an enrolment token for the agent <paramref name="agentName"/>; the token is returned once and never kept.</summary>
    public (EnrollmentTokenRecord Record, string Token) CreateToken(string agentName, TimeSpan? lifetime, bool reusable)
    {
        if (string.IsNullOrWhiteSpace(agentName) || agentName.Length > 128 || agentName.Any(char.IsControl))
        {
            throw DomainException.Invalid("agent name must be 1 to 128 printable characters");
        }

        TimeSpan ttl = lifetime ?? DefaultTokenLifetime;
        if (ttl <= TimeSpan.Zero || ttl > MaxTokenLifetime)
        {
            throw DomainException.Invalid($"ttl must be more than 0 and at most {MaxTokenLifetime.TotalDays:0} days");
        }

        (string id, string token) = PrefixedSecret.Create(PrefixedSecret.EnrollmentPrefix);
        DateTimeOffset now = _time.GetUtcNow();
        var record = new EnrollmentTokenRecord(id, PrefixedSecret.Hash(token), agentName.Trim(), now, now + ttl, reusable, UsedAt: null);
        lock (_lock)
        {
            List<EnrollmentTokenRecord> next = [.. _tokens.Where(t => t.ExpiresAt > now), record];
            _tokenStore.Save(next);
            _tokens = next;
        }

        return (record, token);
    }

    /// <summary>Enrols an agent with <paramref name="token"/>: a new agent id and credential (returned once).</summary>
    /// <exception cref="DomainException">Unauthenticated when the token is unknown, expired or used up.</exception>
    public (AgentCredentialRecord Record, string Credential, EnrollmentTokenRecord Token) Enroll(string? token)
    {
        string? tokenId = PrefixedSecret.TryGetId(token, PrefixedSecret.EnrollmentPrefix);
        if (tokenId is null)
        {
            throw DomainException.Unauthenticated("EnrollAgent needs 'authorization: Bearer abe_...' with an enrolment token");
        }

        (string credentialId, string credential) = PrefixedSecret.Create(PrefixedSecret.AgentCredentialPrefix);
        DateTimeOffset now = _time.GetUtcNow();
        lock (_lock)
        {
            int index = _tokens.FindIndex(t => t.Id == tokenId);
            EnrollmentTokenRecord? found = index < 0 ? null : _tokens[index];
            if (found is null || !PrefixedSecret.Matches(token!, found.Hash) || found.ExpiresAt <= now
                || (!found.Reusable && found.UsedAt is not null))
            {
                throw DomainException.Unauthenticated(TokenRefused);
            }

            var used = found with { UsedAt = now };
            var record = new AgentCredentialRecord(
                credentialId, PrefixedSecret.Hash(credential), NewAgentId(), found.AgentName, now, RevokedAt: null, LastSeen: null);
            List<EnrollmentTokenRecord> tokens = [.. _tokens];
            tokens[index] = used;
            List<AgentCredentialRecord> credentials = [.. _credentials, record];

            // Token first: if the credential save fails the token is spent, never reusable for a second agent.
            _tokenStore.Save(tokens);
            _tokens = tokens;
            _credentialStore.Save(credentials);
            _credentials = credentials;
            return (record, credential, used);
        }
    }

    /// <summary>The live credential record of <paramref name="credential"/>; null when unknown, malformed or revoked.</summary>
    public AgentCredentialRecord? FindLive(string? credential)
    {
        string? id = PrefixedSecret.TryGetId(credential, PrefixedSecret.AgentCredentialPrefix);
        if (id is null)
        {
            return null;
        }

        lock (_lock)
        {
            AgentCredentialRecord? found = _credentials.Find(c => c.Id == id);
            return found is not null && found.RevokedAt is null && PrefixedSecret.Matches(credential!, found.Hash) ? found : null;
        }
    }

    /// <summary>Whether <paramref name="agentId"/> is an enrolled agent whose credential was revoked.</summary>
    public bool IsRevoked(string agentId)
    {
        lock (_lock)
        {
            return _credentials.Exists(c => c.AgentId == agentId && c.RevokedAt is not null);
        }
    }

    /// <summary>Remembers when the agent was last authenticated (in memory; saved with the next change).</summary>
    public void MarkSeen(string credentialId)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_lock)
        {
            int index = _credentials.FindIndex(c => c.Id == credentialId);
            if (index >= 0)
            {
                List<AgentCredentialRecord> next = [.. _credentials];
                next[index] = next[index] with { LastSeen = now };
                _credentials = next;
            }
        }
    }

    public IReadOnlyList<AgentCredentialRecord> Agents()
    {
        lock (_lock)
        {
            return [.. _credentials.OrderBy(c => c.CreatedAt).ThenBy(c => c.AgentId, StringComparer.Ordinal)];
        }
    }

    /// <summary>Revokes the credential of <paramref name="agentId"/> at once.</summary>
    /// <exception cref="DomainException">NotFound when no enrolled agent has this id.</exception>
    public AgentCredentialRecord Revoke(string agentId)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_lock)
        {
            int index = _credentials.FindIndex(c => c.AgentId == agentId);
            if (index < 0)
            {
                throw DomainException.NotFound($"no enrolled agent '{agentId}'; see 'accel agents list'");
            }

            List<AgentCredentialRecord> next = [.. _credentials];
            next[index] = next[index] with { RevokedAt = next[index].RevokedAt ?? now };
            _credentialStore.Save(next);
            _credentials = next;
            return next[index];
        }
    }

    // Called under _lock. The same form as ids the registry chose before enrolment existed.
    private string NewAgentId()
    {
        string agentId;
        do
        {
            agentId = "agent-" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        }
        while (_credentials.Exists(c => c.AgentId == agentId));

        return agentId;
    }
}
