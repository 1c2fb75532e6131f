namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>One opcode of a pickle: where it starts, its code, and where its argument lies.</summary>
internal readonly record struct PickleOp(int Offset, byte Code, int ArgumentOffset, int ArgumentLength)
{
    /// <summary>GLOBAL: "module\nname\n" as text, the opcode through which a pickle names a class or function.</summary>
    public const byte Global = (byte)'c';

    public int End => ArgumentOffset + ArgumentLength;

    /// <summary>
    /// The opcodes of a protocol-2 pickle such as TorchScript's data.pkl, in order, up to STOP or the first opcode
    /// it does not know (protocols 3 to 5 and the text opcodes that need a newline scan are not written by torch).
    /// </summary>
    public static List<PickleOp> Walk(ReadOnlySpan<byte> pickle)
    {
        var ops = new List<PickleOp>();
        int i = 0;
        while (i < pickle.Length)
        {
            byte code = pickle[i];
            int start = i + 1;
            int length = code switch
            {
                0x80 or (byte)'q' or (byte)'h' or (byte)'K' => 1, // PROTO, BINPUT, BINGET, BININT1
                (byte)'M' => 2, // BININT2
                (byte)'r' or (byte)'j' or (byte)'J' => 4, // LONG_BINPUT, LONG_BINGET, BININT
                (byte)'G' => 8, // BINFLOAT
                (byte)'X' or (byte)'T' or (byte)'B' => 4 + LittleEndianLength(pickle, start, 4), // BINUNICODE, BINSTRING, BINBYTES
                (byte)'U' or (byte)'C' or 0x8a => 1 + LittleEndianLength(pickle, start, 1), // SHORT_BINSTRING, SHORT_BINBYTES, LONG1
                (byte)'c' => TwoLines(pickle, start),
                (byte)')' or (byte)'}' or (byte)']' or (byte)'(' or (byte)'t' or 0x85 or 0x86 or 0x87 or 0x81 or 0x88 or 0x89
                    or (byte)'N' or (byte)'Q' or (byte)'R' or (byte)'u' or (byte)'s' or (byte)'b' or (byte)'e' or (byte)'a'
                    or (byte)'0' or (byte)'2' or (byte)'.' => 0,
                _ => -1,
            };
            if (length < 0 || start + length > pickle.Length)
            {
                break;
            }

            ops.Add(new PickleOp(i, code, start, length));
            i = start + length;
            if (code == (byte)'.')
            {
                break;
            }
        }

        return ops;
    }

    private static int LittleEndianLength(ReadOnlySpan<byte> pickle, int start, int width)
    {
        if (start + width > pickle.Length)
        {
            return int.MaxValue / 2;
        }

        long value = 0;
        for (int k = width - 1; k >= 0; k--)
        {
            value = (value << 8) | pickle[start + k];
        }

        return value > int.MaxValue / 2 ? int.MaxValue / 2 : (int)value;
    }

    private static int TwoLines(ReadOnlySpan<byte> pickle, int start)
    {
        int first = pickle[start..].IndexOf((byte)'\n');
        if (first < 0)
        {
            return -1;
        }

        int second = pickle[(start + first + 1)..].IndexOf((byte)'\n');
        return second < 0 ? -1 : first + 1 + second + 1;
    }
}
