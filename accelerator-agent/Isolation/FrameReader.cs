using System.Buffers.Binary;
using Google.Protobuf;

namespace AccelBroker.Agent.Isolation;

/// <summary>Reads the messages <see cref="FrameWriter"/> writes. One reader per stream, on one thread.</summary>
internal sealed class FrameReader
{
    /// <summary>Control messages only: tensor bytes travel in shared memory, so anything larger is corruption.</summary>
    public const int MaxFrameBytes = 16 * 1024 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[4];
    private byte[] _buffer = new byte[4096];

    public FrameReader(Stream stream) => _stream = stream;

    /// <summary>The next message, or null when the other side closed the stream.</summary>
    public T? Read<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        if (!Fill(_header, 4))
        {
            return null;
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(_header);
        if (size is < 0 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"worker frame of {size} bytes is out of range");
        }

        if (_buffer.Length < size)
        {
            _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        }

        if (!Fill(_buffer, size))
        {
            throw new EndOfStreamException("worker stream ended inside a message");
        }

        return parser.ParseFrom(_buffer.AsSpan(0, size));
    }

    private bool Fill(byte[] buffer, int count)
    {
        int read = 0;
        while (read < count)
        {
            int n = _stream.Read(buffer, read, count - read);
            if (n == 0)
            {
                return read == 0 && count > 0 ? false : throw new EndOfStreamException("worker stream ended inside a message");
            }

            read += n;
        }

        return true;
    }
}
