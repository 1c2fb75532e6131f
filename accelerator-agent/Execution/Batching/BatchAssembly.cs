namespace AccelBroker.Agent.Execution.Batching;

/// <summary>
/// Concatenates requests' inputs along the first dimension and splits a batched result back. Row-major
/// contiguous tensors make both plain byte copies.
/// </summary>
internal static class BatchAssembly
{
    public static List<WireTensor> Concatenate(IReadOnlyList<IReadOnlyList<WireTensor>> requests)
    {
        int inputCount = requests[0].Count;
        var merged = new List<WireTensor>(inputCount);
        for (int i = 0; i < inputCount; i++)
        {
            long rows = 0;
            int bytes = 0;
            foreach (IReadOnlyList<WireTensor> request in requests)
            {
                rows += request[i].Shape[0];
                bytes = checked(bytes + request[i].Data.Length);
            }

            byte[] data = GC.AllocateUninitializedArray<byte>(bytes);
            int offset = 0;
            foreach (IReadOnlyList<WireTensor> request in requests)
            {
                request[i].Data.Span.CopyTo(data.AsSpan(offset));
                offset += request[i].Data.Length;
            }

            long[] shape = [.. requests[0][i].Shape];
            shape[0] = rows;
            merged.Add(new WireTensor(requests[0][i].DataType, shape, data));
        }

        return merged;
    }

    /// <summary>
    /// Splits each output by the requests' rows, or returns null when an output does not have the batch's rows
    /// as its first dimension: then the model mixes or reduces samples, and its batched answer cannot be split.
    /// </summary>
    public static List<IReadOnlyList<WireTensor>>? TrySplit(IReadOnlyList<WireTensor> outputs, IReadOnlyList<long> rows)
    {
        long total = rows.Sum();
        foreach (WireTensor output in outputs)
        {
            if (output.Shape.Length == 0 || output.Shape[0] != total || output.Data.Length % total != 0)
            {
                return null;
            }
        }

        var split = new List<IReadOnlyList<WireTensor>>(rows.Count);
        var offsets = new int[outputs.Count];
        foreach (long requestRows in rows)
        {
            var mine = new WireTensor[outputs.Count];
            for (int o = 0; o < outputs.Count; o++)
            {
                WireTensor output = outputs[o];
                int length = checked((int)(output.Data.Length / total * requestRows));
                long[] shape = [.. output.Shape];
                shape[0] = requestRows;
                mine[o] = output with { Shape = shape, Data = output.Data.Slice(offsets[o], length) };
                offsets[o] += length;
            }

            split.Add(mine);
        }

        return split;
    }
}
