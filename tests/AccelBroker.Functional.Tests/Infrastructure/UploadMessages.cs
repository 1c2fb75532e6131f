using System.Security.Cryptography;
using AccelBroker.Protocol.V1;
using Google.Protobuf;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>Upload messages for raw calls to an agent.</summary>
internal static class UploadMessages
{
    public static byte[] RandomBytes(int length)
    {
        byte[] bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    public static UploadModelRequest Header(byte[] bytes, long declared) =>
        new() { Header = new UploadModelHeader { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Length = declared } };

    public static UploadModelRequest Chunk(byte[] bytes) =>
        new() { Chunk = new ModelChunk { RawLength = bytes.Length, Data = ByteString.CopyFrom(bytes) } };
}
