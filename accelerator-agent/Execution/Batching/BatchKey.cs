using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution.Batching;

/// <summary>
/// What requests must agree on to share an execution: the number of inputs, and each input's dtype and shape
/// except the first dimension.
/// </summary>
internal sealed class BatchKey : IEquatable<BatchKey>
{
    private readonly (DataType DataType, long[] Tail)[] _inputs;

    private BatchKey((DataType, long[])[] inputs, long rows)
    {
        _inputs = inputs;
        Rows = rows;
    }

    /// <summary>The request's first dimension (shared by all its inputs).</summary>
    public long Rows { get; }

    /// <summary>The key of a request, or null when it cannot be batched (a scalar input, or inputs that disagree on rows).</summary>
    public static BatchKey? Of(IReadOnlyList<WireTensor> inputs)
    {
        if (inputs.Count == 0 || inputs[0].Shape.Length == 0)
        {
            return null;
        }

        long rows = inputs[0].Shape[0];
        var parts = new (DataType, long[])[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            long[] shape = inputs[i].Shape;
            if (shape.Length == 0 || shape[0] != rows || rows <= 0)
            {
                return null;
            }

            parts[i] = (inputs[i].DataType, shape[1..]);
        }

        return new BatchKey(parts, rows);
    }

    public bool Equals(BatchKey? other) =>
        other is not null
        && other._inputs.Length == _inputs.Length
        && _inputs.Zip(other._inputs).All(pair => pair.First.DataType == pair.Second.DataType && pair.First.Tail.AsSpan().SequenceEqual(pair.Second.Tail));

    public override bool Equals(object? obj) => Equals(obj as BatchKey);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach ((DataType dataType, long[] tail) in _inputs)
        {
            hash.Add(dataType);
            foreach (long dimension in tail)
            {
                hash.Add(dimension);
            }
        }

        return hash.ToHashCode();
    }
}
