using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Models;

/// <summary>
/// The agent's uploads in progress: how many, and how many bytes they declared. An upload past either limit is
/// refused at once, not queued, so a client that opens uploads and never finishes them cannot hold the agent.
/// Uploads name no slice, so both limits are the agent's.
/// </summary>
internal sealed class UploadAdmission
{
    private readonly object _gate = new();
    private readonly int _maxUploads;
    private readonly long _maxBytes;
    private int _uploads;
    private long _bytes;

    public UploadAdmission(AgentOptions options)
    {
        _maxUploads = options.MaxConcurrentUploads;
        _maxBytes = options.MaxUploadBytesInFlight;
    }

    /// <summary>Uploads admitted and not yet ended.</summary>
    public int Uploads
    {
        get
        {
            lock (_gate)
            {
                return _uploads;
            }
        }
    }

    /// <summary>Declared bytes of the uploads admitted and not yet ended.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Reserves room for an upload of <paramref name="declaredBytes"/>; disposing the reservation frees it.</summary>
    public Reservation Admit(long declaredBytes)
    {
        lock (_gate)
        {
            if (_uploads >= _maxUploads)
            {
                throw DomainException.Exhausted($"this agent is at its limit of {_maxUploads} concurrent uploads (MaxUploads); retry later");
            }

            if (declaredBytes > _maxBytes - _bytes)
            {
                throw DomainException.Exhausted(
                    $"an upload of {declaredBytes} bytes would pass this agent's limit of upload bytes in flight (MaxUploadMibInFlight, {_maxBytes} bytes; {_bytes} in use); retry later");
            }

            _uploads++;
            _bytes += declaredBytes;
        }

        return new Reservation(this, declaredBytes);
    }

    private void Release(long declaredBytes)
    {
        lock (_gate)
        {
            _uploads--;
            _bytes -= declaredBytes;
        }
    }

    /// <summary>One admitted upload's share of the limits, freed once however the upload ends.</summary>
    internal sealed class Reservation : IDisposable
    {
        private readonly long _bytes;
        private UploadAdmission? _owner;

        public Reservation(UploadAdmission owner, long bytes)
        {
            _owner = owner;
            _bytes = bytes;
        }

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release(_bytes);
    }
}
