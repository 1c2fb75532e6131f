namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>Mutations of the tensor storage records (data/N), whose sizes data.pkl declares separately.</summary>
internal sealed partial class ModelMutator
{
    private static string SwapCodeWithData(ModelArchive archive, Random random)
    {
        ArchiveEntry code = Pick([.. archive.CodeFiles], random);
        ArchiveEntry data = Pick([.. archive.DataRecords], random);
        archive.Replace(code.WithData(data.Data));
        archive.Replace(data.WithData(code.Data));
        return $"swapped {Relative(archive, code)} ({code.Length} bytes) with {Relative(archive, data)} ({data.Length} bytes)";
    }

    private static string TruncateDataRecord(ModelArchive archive, Random random)
    {
        ArchiveEntry record = Pick([.. archive.DataRecords.Where(r => r.Length > 4)], random);
        // Half the cases keep one float32 element, as the fuzzer's; the rest cut anywhere short of the end.
        int length = random.Next(2) == 0 ? 4 : random.Next(0, record.Data.Length);
        archive.Replace(record.WithData(record.Data[..length]));
        return $"{Relative(archive, record)} cut to {length} of {record.Length} bytes";
    }

    private static string EmptyDataRecord(ModelArchive archive, Random random)
    {
        ArchiveEntry record = Pick([.. archive.DataRecords.Where(r => r.Length > 0)], random);
        archive.Replace(record.WithData([]));
        return $"emptied {Relative(archive, record)} ({record.Length} bytes)";
    }

    private static string DuplicateDataRecord(ModelArchive archive, Random random)
    {
        (ArchiveEntry from, ArchiveEntry over) = Pick(DifferentLengthPairs(archive), random);
        archive.Replace(over.WithData(from.Data));
        return $"{Relative(archive, from)} ({from.Length} bytes) copied over {Relative(archive, over)} ({over.Length} bytes)";
    }

    private static string SwapWeightAndBias(ModelArchive archive, Random random)
    {
        (ArchiveEntry weight, ArchiveEntry bias) = Pick(WeightBiasPairs(archive), random);
        archive.Replace(weight.WithData(bias.Data));
        archive.Replace(bias.WithData(weight.Data));
        return $"swapped {Relative(archive, weight)} ({weight.Length} bytes) with {Relative(archive, bias)} ({bias.Length} bytes)";
    }

    private static string ZeroBomb(ModelArchive archive, long zeros)
    {
        ArchiveEntry record = archive.Find("data/0")!;
        DeflatedContent bomb = RepeatedDeflate.Build([0], zeros);
        archive.Replace(new ArchiveEntry(record.Name, bomb));
        return $"data/0 ({record.Length} bytes) replaced by {zeros} zero bytes deflated to {bomb.Compressed.Length}";
    }

    private static List<(ArchiveEntry From, ArchiveEntry Over)> DifferentLengthPairs(ModelArchive archive)
    {
        ArchiveEntry[] records = [.. archive.DataRecords];
        return [.. from a in records from b in records where a.Length != b.Length select (a, b)];
    }

    // A module's storages are numbered in the order the pickler met them: a Linear's weight, then its bias. Any
    // neighbouring pair of different lengths stands for that pair (it is one in every committed model but token_ids).
    private static List<(ArchiveEntry Weight, ArchiveEntry Bias)> WeightBiasPairs(ModelArchive archive)
    {
        var pairs = new List<(ArchiveEntry, ArchiveEntry)>();
        for (int n = 0; archive.Find($"data/{n + 1}") is { } next; n++)
        {
            if (archive.Find($"data/{n}") is { } record && record.Length != next.Length)
            {
                pairs.Add((record, next));
            }
        }

        return pairs;
    }
}
