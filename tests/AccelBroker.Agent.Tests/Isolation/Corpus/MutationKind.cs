namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// The ways <see cref="ModelMutator"/> breaks a TorchScript file. Each names a class of input that crashed the
/// agent in the issue 9 fuzzing run (the exception or signal it raised in libtorch 2.10 is noted), plus generic
/// byte-level damage.
/// </summary>
internal enum MutationKind
{
    /// <summary>A code/**.py record deleted (torch::jit::ErrorReport escaping the importer: std::terminate).</summary>
    RemoveCodeFile,

    /// <summary>A code/**.py record emptied (ErrorReport: std::terminate).</summary>
    EmptyCodeFile,

    /// <summary>A code record's bytes exchanged with a data/N record's (ErrorReport from the lexer: std::terminate).</summary>
    SwapCodeWithData,

    /// <summary>A GLOBAL opcode of data.pkl rewritten to name a module or class that does not exist (ErrorReport).</summary>
    UnknownGlobal,

    /// <summary>The version record set to 18446744073709551616 (std::stoull's std::out_of_range) or another absurd value.</summary>
    AbsurdVersion,

    /// <summary>Random bytes of data.pkl flipped (std::out_of_range from the unpickler's stack and memo).</summary>
    PickleByteFlips,

    /// <summary>A data/N record cut shorter than its storage declares, often to 4 bytes (reads past the buffer, SIGSEGV).</summary>
    TruncateDataRecord,

    /// <summary>A data/N record emptied (a storage over a zero-byte buffer: SIGSEGV).</summary>
    EmptyDataRecord,

    /// <summary>One data record's bytes copied over another of a different length (SIGSEGV or wrong weights).</summary>
    DuplicateDataRecord,

    /// <summary>A weight record exchanged with the bias record after it (a 4 KiB weight read from 256 bytes).</summary>
    SwapWeightAndBias,

    /// <summary>50,000 nested parentheses inserted at the top of a forward (the recursive parser overflows the stack).</summary>
    NestedParentheses,

    /// <summary><c>x + x + …</c> with 100,000 terms inserted at the top of a forward (stack overflow).</summary>
    LongAdditionChain,

    /// <summary>A code record replaced by 256 MiB of comment lines, stored deflated (about 0.3 MB in the file).</summary>
    CommentBomb,

    /// <summary>data/0 replaced by a deflated block of zeros (64 MiB in the corpus): memory taken by the load.</summary>
    ZeroBomb,

    /// <summary>Random bytes anywhere in the file flipped.</summary>
    RandomByteFlips,

    /// <summary>The whole file cut at a random length.</summary>
    TruncateFile,

    /// <summary>A random record of the archive deleted (data.pkl, version, constants.pkl, a debug_pkl, …).</summary>
    DeleteRandomRecord,
}
