using System.Collections.Concurrent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// The agent's side of one worker's shared-memory lanes. A run takes a free lane, writes its inputs into the
/// lane's input file (grown when too small) and reads its outputs from the worker's output file for that lane.
/// Lanes are reused, so their pages stay warm; there are as many as runs that were ever in flight at once.
/// </summary>
internal sealed class AgentLanes : IDisposable
{
    private readonly string _prefix;
    private readonly string _workerPrefix;
    private readonly ConcurrentStack<Lane> _free = new();
    private readonly List<Lane> _all = [];
    private long _generation;

    /// <param name="prefix">Names of the input files this side creates.</param>
    /// <param name="workerPrefix">What the worker's output files must be named: it says where they are, and is not trusted to.</param>
    public AgentLanes(string prefix, string workerPrefix)
    {
        _prefix = prefix;
        _workerPrefix = workerPrefix;
    }

    public Lane Take()
    {
        if (_free.TryPop(out Lane? lane))
        {
            return lane;
        }

        lock (_all)
        {
            lane = new Lane(this, _all.Count);
            _all.Add(lane);
            return lane;
        }
    }

    public void Return(Lane lane) => _free.Push(lane);

    public void Dispose()
    {
        lock (_all)
        {
            foreach (Lane lane in _all)
            {
                lane.Dispose();
            }
        }
    }

    /// <summary>One request's pair of lane files at a time.</summary>
    internal sealed class Lane : IDisposable
    {
        private readonly AgentLanes _owner;
        private SharedLane? _input;
        private SharedLane? _output;
        private SharedLane? _unlinkAfterReply;

        public Lane(AgentLanes owner, int index)
        {
            _owner = owner;
            Index = index;
        }

        public int Index { get; }

        /// <summary>The input file the last <see cref="WriteInputs"/> used; its head is the lane's reply doorbell.</summary>
        public SharedLane Input => _input ?? throw new InvalidOperationException("the lane has no inputs yet");

        /// <summary>Copies the inputs into the lane and describes them for the worker.</summary>
        public LaneRef WriteInputs(IReadOnlyList<WireTensor> inputs, IList<LaneTensor> described)
        {
            long needed = ReplyDoorbell.HeaderBytes;
            foreach (WireTensor input in inputs)
            {
                needed = SharedLane.Align(needed) + input.Data.Length;
            }

            var reference = new LaneRef { Lane = Index };
            if (_input is null || _input.Capacity < needed)
            {
                _input?.Dispose();
                _input = SharedLane.Create($"{_owner._prefix}-in{Index}", Interlocked.Increment(ref _owner._generation), needed);
                // The worker maps it on reading this command; the file goes once it has answered.
                _unlinkAfterReply = _input;
                reference.Path = _input.Path;
            }

            reference.Generation = _input.Generation;
            reference.Capacity = _input.Capacity;
            long offset = ReplyDoorbell.HeaderBytes;
            foreach (WireTensor input in inputs)
            {
                offset = SharedLane.Align(offset);
                input.Data.Span.CopyTo(_input.Span(offset, input.Data.Length));
                var tensor = new LaneTensor { Dtype = (int)input.DataType, Offset = offset, Length = input.Data.Length };
                tensor.Shape.AddRange(input.Shape);
                described.Add(tensor);
                offset += input.Data.Length;
            }

            return reference;
        }

        /// <summary>Called once the worker answered (or died): a new input file is mapped there by now.</summary>
        public void Answered()
        {
            _unlinkAfterReply?.Unlink();
            _unlinkAfterReply = null;
        }

        /// <summary>Copies the outputs the worker left in its output file for this lane into arrays of <paramref name="owner"/>.</summary>
        public WireTensor[] ReadOutputs(LaneRef lane, IReadOnlyList<LaneTensor> outputs, PooledBuffers owner)
        {
            if (_output is null || _output.Generation != lane.Generation)
            {
                // The agent opens and then unlinks this file: a worker running tenant code must not pick another one.
                string expected = Path.Combine(SharedLane.Directory, $"{_owner._workerPrefix}-out{Index}-{lane.Generation}");
                if (lane.Path != expected)
                {
                    throw new InvalidDataException($"output lane {Index} generation {lane.Generation} names '{lane.Path}', not its own file");
                }

                SharedLane opened = SharedLane.Open(lane.Path, lane.Generation, lane.Capacity);
                opened.Unlink();
                _output?.Dispose();
                _output = opened;
            }

            var result = new WireTensor[outputs.Count];
            for (int i = 0; i < outputs.Count; i++)
            {
                LaneTensor output = outputs[i];
                // The worker's description is not trusted: its shape's arithmetic is checked, never wrapped round.
                if (!output.MakesTensor())
                {
                    throw new InvalidDataException($"output {i}: {output.Length} bytes do not make a tensor of dtype {output.Dtype} and shape {DataTypeSizes.FormatShape(output.Shape)}");
                }

                int length = checked((int)output.Length);
                Memory<byte> data = length == 0 ? Memory<byte>.Empty : owner.Rent(length).AsMemory(0, length);
                _output.Span(output.Offset, output.Length).CopyTo(data.Span);
                result[i] = new WireTensor((DataType)output.Dtype, [.. output.Shape], data);
            }

            return result;
        }

        public void Dispose()
        {
            _input?.Unlink();
            _input?.Dispose();
            _output?.Dispose();
        }
    }
}
