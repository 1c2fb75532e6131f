using System.Text;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>Mutations of the TorchScript source records (code/**.py).</summary>
internal sealed partial class ModelMutator
{
    // 63 characters and a newline: 4 Mi of these lines are the 256 MiB bomb.
    private static readonly byte[] CommentLine = Encoding.ASCII.GetBytes("# " + new string('z', 61) + "\n");

    private static string RemoveCodeFile(ModelArchive archive, Random random)
    {
        ArchiveEntry code = Pick([.. archive.CodeFiles], random);
        archive.Entries.Remove(code);
        return $"removed {Relative(archive, code)}";
    }

    private static string EmptyCodeFile(ModelArchive archive, Random random)
    {
        ArchiveEntry code = Pick([.. archive.CodeFiles], random);
        archive.Replace(code.WithData([]));
        return $"emptied {Relative(archive, code)} ({code.Length} bytes)";
    }

    private static string NestedParentheses(ModelArchive archive, Random random) =>
        InsertIntoForward(archive, random, argument =>
            new StringBuilder(2 * NestingDepth + argument.Length + 8)
                .Append("_n = ").Append('(', NestingDepth).Append(argument).Append(')', NestingDepth).ToString(),
            $"{NestingDepth} nested parentheses");

    private static string LongAdditionChain(ModelArchive archive, Random random) =>
        InsertIntoForward(archive, random, argument =>
            "_s = " + string.Join(" + ", Enumerable.Repeat(argument, AdditionTerms)),
            $"a sum of {AdditionTerms} terms");

    private static string CommentBomb(ModelArchive archive, Random random)
    {
        ArchiveEntry code = Pick([.. archive.CodeFiles], random);
        DeflatedContent comments = RepeatedDeflate.Build(CommentLine, CommentBombBytes);
        archive.Replace(new ArchiveEntry(code.Name, comments));
        return $"{Relative(archive, code)} replaced by {CommentBombBytes >> 20} MiB of comment lines deflated to {comments.Compressed.Length} bytes";
    }

    // The statement goes first in the body, with the body's indentation, so the parser meets it before anything else.
    private static string InsertIntoForward(ModelArchive archive, Random random, Func<string, string> statement, string what)
    {
        ArchiveEntry code = Pick([.. archive.CodeFilesWithForward], random);
        (int offset, string indent, string argument) = ModelArchive.ForwardBody(code.Data)!.Value;
        byte[] line = Encoding.ASCII.GetBytes(indent + statement(argument) + "\n");
        archive.Replace(code.WithData([.. code.Data.AsSpan(0, offset), .. line, .. code.Data.AsSpan(offset)]));
        return $"{what} of '{argument}' inserted into the forward of {Relative(archive, code)}";
    }
}
