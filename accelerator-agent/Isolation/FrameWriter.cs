using System.Buffers.Binary;
using Google.Protobuf;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// Writes length-prefixed protobuf messages to a pipe: one write and one flush per message, so the other side
/// wakes once. Thread-safe; the buffer is reused, since every run sends one.
/// </summary>
internal sealed class FrameWriter
{
    private readonly Stream _stream;
    private readonly object _gate = new();
    private byte[] _buffer = new byte[4096];

    public FrameWriter(Stream stream) => _stream = stream;

    public void Write(IMessage message)
    {
        int size = message.CalculateSize();
        if (size > FrameReader.MaxFrameBytes)
        {
            throw new InvalidOperationException($"worker message of {size} bytes exceeds {FrameReader.MaxFrameBytes}");
        }

        lock (_gate)
        {
            if (_buffer.Length < size + 4)
            {
                _buffer = new byte[Math.Max(size + 4, _buffer.Length * 2)];
            }

            BinaryPrimitives.WriteInt32LittleEndian(_buffer, size);
            message.WriteTo(_buffer.AsSpan(4, size));
            _stream.Write(_buffer, 0, size + 4);
            _stream.Flush();
        }
    }
}
