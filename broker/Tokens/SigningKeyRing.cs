using System.Security.Cryptography;
using AccelBroker.Hosting.Tokens;

namespace AccelBroker.Broker.Tokens;

/// <summary>
/// The broker's token signing keys: one current key, rotated every <see cref="BrokerOptions.SigningKeyRotation"/>,
/// and the previous keys, whose public halves stay published for <see cref="BrokerOptions.SigningKeyOverlap"/> after
/// they retire so tokens they signed keep verifying until they expire. Rotation happens lazily, when the ring is used.
/// </summary>
internal sealed class SigningKeyRing : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ISigningKeyStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _rotation;
    private readonly TimeSpan _overlap;
    private readonly List<SigningKey> _keys;
    private SigningKey _current;

    public SigningKeyRing(ISigningKeyStore store, TimeProvider time, BrokerOptions options)
    {
        _store = store;
        _time = time;
        _rotation = options.SigningKeyRotation;
        _overlap = options.EffectiveSigningKeyOverlap;
        _keys = [.. store.Load()];
        SigningKey? current = _keys.LastOrDefault(k => k.RetiredAt is null);
        bool changed = false;

        // A file could name several current keys only if edited by hand; the newest wins, the others retire.
        foreach (SigningKey stale in _keys.Where(k => k.RetiredAt is null && !ReferenceEquals(k, current)).ToList())
        {
            Retire(stale, _time.GetUtcNow());
            changed = true;
        }

        if (current is null)
        {
            current = NewKey(_time.GetUtcNow());
            _keys.Add(current);
            changed = true;
        }

        _current = current;
        changed |= RotateAndPrune(_time.GetUtcNow());
        if (changed)
        {
            _store.Save(_keys);
        }
    }

    /// <summary>The key to sign with now (rotating first when it is due).</summary>
    public SigningKey Current
    {
        get
        {
            lock (_gate)
            {
                if (RotateAndPrune(_time.GetUtcNow()))
                {
                    _store.Save(_keys);
                }

                return _current;
            }
        }
    }

    /// <summary>The public keys agents should trust now: the current one and those retired within the overlap.</summary>
    public IReadOnlyList<TrustedKey> PublicKeys()
    {
        lock (_gate)
        {
            if (RotateAndPrune(_time.GetUtcNow()))
            {
                _store.Save(_keys);
            }

            return [.. _keys.Select(k => new TrustedKey(k.Kid, k.PublicKeyDer(), k.NotAfter))];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (SigningKey key in _keys)
            {
                key.Key.Dispose();
            }

            _keys.Clear();
        }
    }

    private static SigningKey NewKey(DateTimeOffset now) =>
        new(RandomNumberGenerator.GetHexString(16, lowercase: true), ECDsa.Create(ECCurve.NamedCurves.nistP256), now, null, null);

    private void Retire(SigningKey key, DateTimeOffset at)
    {
        int index = _keys.IndexOf(key);
        _keys[index] = key with { RetiredAt = at, NotAfter = at + _overlap };
    }

    // True when the key set changed and must be saved.
    private bool RotateAndPrune(DateTimeOffset now)
    {
        bool changed = false;
        if (now - _current.CreatedAt >= _rotation)
        {
            Retire(_current, now);
            _current = NewKey(now);
            _keys.Add(_current);
            changed = true;
        }

        // Pruned keys are not disposed here: a caller may still be signing with one it read a moment ago.
        changed |= _keys.RemoveAll(k => k.NotAfter is { } notAfter && notAfter <= now) > 0;
        return changed;
    }
}
