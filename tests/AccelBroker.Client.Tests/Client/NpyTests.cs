using System.Buffers.Binary;
using System.Text;
using AccelBroker.Client;
using Xunit;

namespace AccelBroker.Tests.Client;

// The files under tests/models/npy were written by numpy 1.24 (Debian); the numpy call is next to each test.
public sealed class NpyTests : IDisposable
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-npy-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<TensorDataType> NumPyDataTypes =>
        [.. Enum.GetValues<TensorDataType>().Where(t => t != TensorDataType.BFloat16)];

    // Files numpy wrote in C order and little-endian, which Npy.Write must reproduce byte for byte.
    public static TheoryData<string> CanonicalNumPyFiles =>
        ["float32_2x3.npy", "float32_0x3.npy", "float16_6.npy", "bool_5.npy", "uint8_scalar.npy", "int8_2x2x2.npy"];

    [Fact]
    public void Read_Float32()
    {
        // np.save(f, (np.arange(6, dtype=np.float32) / 4).reshape(2, 3))
        var tensor = Npy.Read(Fixture("float32_2x3.npy"));

        Assert.Equal(TensorDataType.Float32, tensor.DataType);
        Assert.Equal([2L, 3L], tensor.Shape);
        Assert.Equal([0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f], tensor.ToArray<float>());
    }

    [Fact]
    public void Read_Float64FortranOrder_ReturnsRowMajor()
    {
        // np.save(f, np.asfortranarray(np.arange(6, dtype=np.float64).reshape(3, 2))); the file stores 0, 2, 4, 1, 3, 5.
        var tensor = Npy.Read(Fixture("float64_fortran_3x2.npy"));

        Assert.Equal(TensorDataType.Float64, tensor.DataType);
        Assert.Equal([3L, 2L], tensor.Shape);
        Assert.Equal([0d, 1d, 2d, 3d, 4d, 5d], tensor.ToArray<double>());
    }

    [Fact]
    public void Read_Int32FortranOrder3D_ReturnsRowMajor()
    {
        // np.save(f, np.asfortranarray(np.arange(24, dtype='<i4').reshape(2, 3, 4)))
        var tensor = Npy.Read(Fixture("int32_fortran_2x3x4.npy"));

        Assert.Equal([2L, 3L, 4L], tensor.Shape);
        Assert.Equal(Enumerable.Range(0, 24), tensor.ToArray<int>());
    }

    [Fact]
    public void Read_Int64BigEndian_IsSwappedToLittleEndian()
    {
        // np.save(f, np.array([-3, -1, 0, 1, 256, 2**40], dtype='>i8'))
        var tensor = Npy.Read(Fixture("int64_bigendian.npy"));

        Assert.Equal(TensorDataType.Int64, tensor.DataType);
        Assert.Equal([6L], tensor.Shape);
        Assert.Equal([-3L, -1L, 0L, 1L, 256L, 1L << 40], tensor.ToArray<long>());
    }

    [Fact]
    public void Read_Float32BigEndian_IsSwappedToLittleEndian()
    {
        // np.save(f, np.array([1.5, -2.0, 3.25], dtype='>f4'))
        var tensor = Npy.Read(Fixture("float32_bigendian.npy"));

        Assert.Equal([1.5f, -2f, 3.25f], tensor.ToArray<float>());
    }

    [Fact]
    public void Read_Bool()
    {
        // np.save(f, np.array([True, False, True, True, False]))
        var tensor = Npy.Read(Fixture("bool_5.npy"));

        Assert.Equal(TensorDataType.Bool, tensor.DataType);
        Assert.Equal([true, false, true, true, false], tensor.ToArray<bool>());
    }

    [Fact]
    public void Read_Float16_MatchesNetHalfRounding()
    {
        // np.save(f, np.array([0.0, 1.0, -2.5, 65504.0, np.inf, 0.1], dtype='<f2')); numpy stored 0.1 as 0.0999755859375.
        var tensor = Npy.Read(Fixture("float16_6.npy"));

        Assert.Equal(TensorDataType.Float16, tensor.DataType);
        Assert.Equal([0f, 1f, -2.5f, 65504f, float.PositiveInfinity, 0.0999755859375f], tensor.ToSingleArray());
        Assert.Equal((Half)0.1f, tensor.ToArray<Half>()[5]);
    }

    [Fact]
    public void Read_UInt8Scalar_HasEmptyShape()
    {
        // np.save(f, np.array(200, dtype=np.uint8))
        var tensor = Npy.Read(Fixture("uint8_scalar.npy"));

        Assert.Equal(TensorDataType.UInt8, tensor.DataType);
        Assert.Empty(tensor.Shape);
        Assert.Equal(1, tensor.ElementCount);
        Assert.Equal(new byte[] { 200 }, tensor.ToArray<byte>());
    }

    [Fact]
    public void Read_ZeroSizeDimension()
    {
        // np.save(f, np.zeros((0, 3), dtype=np.float32))
        var tensor = Npy.Read(Fixture("float32_0x3.npy"));

        Assert.Equal([0L, 3L], tensor.Shape);
        Assert.Equal(0, tensor.ElementCount);
    }

    [Fact]
    public void Read_Version2()
    {
        // np.lib.format.write_array(f, np.arange(12, dtype=np.int32).reshape(3, 4), version=(2, 0))
        var tensor = Npy.Read(Fixture("int32_3x4_v2.npy"));

        Assert.Equal(TensorDataType.Int32, tensor.DataType);
        Assert.Equal([3L, 4L], tensor.Shape);
        Assert.Equal(Enumerable.Range(0, 12), tensor.ToArray<int>());
    }

    [Fact]
    public void Read_Version3()
    {
        // np.lib.format.write_array(f, np.arange(-2, 2, dtype=np.int16), version=(3, 0))
        var tensor = Npy.Read(Fixture("int16_v3.npy"));

        Assert.Equal(TensorDataType.Int16, tensor.DataType);
        Assert.Equal(new short[] { -2, -1, 0, 1 }, tensor.ToArray<short>());
    }

    [Fact]
    public void Read_Int8ThreeDimensions()
    {
        // np.save(f, np.arange(-4, 4, dtype=np.int8).reshape(2, 2, 2))
        var tensor = Npy.Read(Fixture("int8_2x2x2.npy"));

        Assert.Equal(TensorDataType.Int8, tensor.DataType);
        Assert.Equal([2L, 2L, 2L], tensor.Shape);
        Assert.Equal(new sbyte[] { -4, -3, -2, -1, 0, 1, 2, 3 }, tensor.ToArray<sbyte>());
    }

    [Theory]
    [MemberData(nameof(CanonicalNumPyFiles))]
    public void Write_ProducesTheSameBytesAsNumPy(string name)
    {
        byte[] numpyBytes = File.ReadAllBytes(Fixture(name));
        var tensor = Npy.Read(Fixture(name));

        using var written = new MemoryStream();
        Npy.Write(written, tensor);

        Assert.Equal(numpyBytes, written.ToArray());
    }

    [Theory]
    [MemberData(nameof(NumPyDataTypes))]
    public void WriteThenRead_RoundTripsEveryNumPyDataType(TensorDataType dataType)
    {
        foreach (long[] shape in new long[][] { [], [0], [5], [2, 3], [1, 2, 1, 3], [3, 0, 2] })
        {
            var original = WithDistinctBytes(dataType, shape);
            string path = Path.Combine(_directory, $"{dataType}.npy");

            Npy.Write(path, original);
            var read = Npy.Read(path);

            Assert.Equal(original.DataType, read.DataType);
            Assert.Equal(original.Shape, read.Shape);
            Assert.Equal(original.Data.ToArray(), read.Data.ToArray());
            Assert.Equal(0, (new FileInfo(path).Length - original.Data.Length) % 64);
        }
    }

    [Fact]
    public void Write_HeaderIsVersion1PaddedTo64BytesAndEndsWithNewline()
    {
        using var stream = new MemoryStream();
        Npy.Write(stream, Tensor.Zeros(TensorDataType.Float32, 1, 16));
        byte[] bytes = stream.ToArray();

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);

        Assert.Equal(Magic, bytes[..6]);
        Assert.Equal([1, 0], bytes[6..8]);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal(10 + headerLength + (16 * 4), bytes.Length);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 16), }", header, StringComparison.Ordinal);
        Assert.EndsWith(" \n", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_HeaderTooLongForVersion1_UsesVersion2()
    {
        // 30,000 dimensions of size 1 make a header of about 90 KB, beyond version 1.0's 16-bit length field.
        long[] shape = Enumerable.Repeat(1L, 30_000).ToArray();
        var tensor = Tensor.FromArray([7], shape);
        using var stream = new MemoryStream();

        Npy.Write(stream, tensor);
        byte[] bytes = stream.ToArray();
        stream.Position = 0;
        var read = Npy.Read(stream);

        Assert.Equal([2, 0], bytes[6..8]);
        Assert.Equal(0u, (12 + BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))) % 64);
        Assert.Equal(shape, read.Shape);
        Assert.Equal([7], read.ToArray<int>());
    }

    [Fact]
    public void Write_BFloat16_ThrowsWithoutCreatingAFile()
    {
        var tensor = Tensor.FromArray([(BFloat16)1f]);
        string path = Path.Combine(_directory, "bfloat16.npy");

        var error = Assert.Throws<NotSupportedException>(() => Npy.Write(path, tensor));

        Assert.Contains("float32", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.Throws<NotSupportedException>(() => Npy.Write(new MemoryStream(), tensor));
    }

    [Fact]
    public void Read_Stream_ReadsConsecutiveArraysAndStopsAfterEach()
    {
        using var stream = new MemoryStream();
        Npy.Write(stream, Tensor.FromArray([1.5f, 2.5f]));
        Npy.Write(stream, Tensor.FromArray([1L, 2L, 3L], 3, 1));
        stream.Position = 0;

        var first = Npy.Read(stream);
        var second = Npy.Read(stream);

        Assert.Equal([1.5f, 2.5f], first.ToArray<float>());
        Assert.Equal([1L, 2L, 3L], second.ToArray<long>());
        Assert.Equal([3L, 1L], second.Shape);
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Read_NonSeekableStream()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("float32_2x3.npy"));

        var tensor = Npy.Read(new NonSeekableStream(bytes));

        Assert.Equal([0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f], tensor.ToArray<float>());
    }

    [Fact]
    public void Read_TruncatedData_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("float32_2x3.npy"));
        string path = WriteFile("truncated.npy", bytes[..^1]);

        var fromFile = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        var fromSeekable = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes[..^1])));
        var fromNonSeekable = Assert.Throws<InvalidDataException>(() => Npy.Read(new NonSeekableStream(bytes[..^1])));

        Assert.Contains("truncated.npy", fromFile.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", fromFile.Message, StringComparison.Ordinal);
        Assert.Contains("24 data bytes", fromFile.Message, StringComparison.Ordinal);
        Assert.Contains("23", fromSeekable.Message, StringComparison.Ordinal);
        Assert.Contains("23", fromNonSeekable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FileWithTrailingBytes_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("float32_2x3.npy"));
        string path = WriteFile("trailing.npy", [.. bytes, 0]);

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(path));

        Assert.Contains("longer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedHeader_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("float32_2x3.npy"));

        foreach (int length in new[] { 0, 3, 8, 9, 50 })
        {
            Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes[..length])));
        }
    }

    [Fact]
    public void Read_Garbage_Throws()
    {
        string path = WriteFile("garbage.npy", Encoding.ASCII.GetBytes("PK\x03\x04 this is a zip, not an array"));

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(path));

        Assert.Contains("garbage.npy", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a .npy file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RandomBytesAfterMagic_Throws()
    {
        var random = new Random(1234);
        for (int i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(8, 300)];
            random.NextBytes(bytes);
            Magic.CopyTo(bytes, 0);
            bytes[6] = (byte)random.Next(1, 4);
            bytes[7] = 0;

            Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));
        }
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    public void Read_UnknownVersion_Throws(int major, int minor)
    {
        byte[] bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        bytes[6] = (byte)major;
        bytes[7] = (byte)minor;

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));

        Assert.Contains($"{major}.{minor}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<u2")]
    [InlineData("<c8")]
    [InlineData("<U5")]
    [InlineData("|O")]
    [InlineData("|f4")]
    [InlineData("")]
    public void Read_UnsupportedDescr_Throws(string descr)
    {
        byte[] bytes = NpyBytes($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}", new byte[8]);

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));

        Assert.Contains($"'{descr}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_StructuredDescr_Throws()
    {
        byte[] bytes = NpyBytes("{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[8]);

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));

        Assert.Contains("structured", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, }")]
    [InlineData("{'descr': '<f4', 'shape': (1,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1, }")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [1], }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }")]
    [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing")]
    [InlineData("'descr': '<f4', 'fortran_order': False, 'shape': (1,)")]
    [InlineData("")]
    public void Read_MalformedHeader_Throws(string header)
    {
        byte[] bytes = NpyBytes(header, new byte[4]);

        var error = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));

        Assert.Contains("header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HugeShapeInSmallFile_ThrowsWithoutAllocating()
    {
        byte[] bytes = NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", new byte[8]);

        Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes)));
        Assert.Throws<InvalidDataException>(() => Npy.Read(new NonSeekableStream(bytes)));
    }

    [Fact]
    public void Read_AcceptsHeaderVariantsNumPyCanParse()
    {
        // Double quotes, native ('=') byte order, Python 2 long suffixes, no trailing comma, keys in another order.
        byte[] data = [1, 0, 0, 0, 2, 0, 0, 0];
        byte[] bytes = NpyBytes("{\"shape\": (2L,1L), \"fortran_order\": False, \"descr\": \"=i4\"}", data);

        var tensor = Npy.Read(new MemoryStream(bytes));

        Assert.Equal(TensorDataType.Int32, tensor.DataType);
        Assert.Equal([2L, 1L], tensor.Shape);
        Assert.Equal([1, 2], tensor.ToArray<int>());
    }

    [Fact]
    public void Read_OneByteTypesIgnoreByteOrder()
    {
        byte[] bytes = NpyBytes("{'descr': '>u1', 'fortran_order': True, 'shape': (2,), }", [7, 9]);

        var tensor = Npy.Read(new MemoryStream(bytes));

        Assert.Equal(new byte[] { 7, 9 }, tensor.ToArray<byte>());
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "models", "npy", name);

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] NpyBytes(string header, byte[] data)
    {
        byte[] headerBytes = Encoding.ASCII.GetBytes(header + "\n");
        var bytes = new byte[10 + headerBytes.Length + data.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerBytes.Length);
        headerBytes.CopyTo(bytes, 10);
        data.CopyTo(bytes, 10 + headerBytes.Length);
        return bytes;
    }

    private static Tensor WithDistinctBytes(TensorDataType dataType, long[] shape)
    {
        long count = shape.Aggregate(1L, (product, dimension) => product * dimension);
        var data = new byte[count * dataType.GetElementSize()];
        for (int i = 0; i < data.Length; i++)
        {
            // Bool bytes must stay 0 or 1; other types get every byte position distinct so misordering shows.
            data[i] = dataType == TensorDataType.Bool ? (byte)(i % 3 == 0 ? 1 : 0) : (byte)((i * 37) + 11);
        }

        return new Tensor(dataType, shape, data);
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
    }
}
