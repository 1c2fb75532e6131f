using System.Collections.Concurrent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Slices;

/// <summary>The slices this agent holds, kept in step with the broker.</summary>
internal sealed class SliceRegistry
{
    private readonly ConcurrentDictionary<string, AcceleratorSlice> _slices = new(StringComparer.Ordinal);
    private readonly ILogger<SliceRegistry> _logger;

    public SliceRegistry(ILogger<SliceRegistry> logger)
    {
        _logger = logger;
    }

    public IReadOnlyCollection<AcceleratorSlice> All => _slices.Values.ToArray();

    /// <summary>Told the id of each slice released, after its models were retired.</summary>
    public event Action<string>? Released;

    /// <summary>Whether any slice has the model with these bytes loaded.</summary>
    public bool Holds(string sha256) => _slices.Values.Any(slice => slice.Models.Values.Any(model => model.Sha256 == sha256));

    public void Assign(SliceAssignment assignment)
    {
        if (string.IsNullOrWhiteSpace(assignment.SliceId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "slice_id is required"));
        }

        if (assignment.SliceId == LocalBenchmark.ComputeTenant)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"slice id '{assignment.SliceId}' is reserved by the agent"));
        }

        if (assignment.MemoryBytes <= 0 || assignment.ComputeShare <= 0 || assignment.ComputeShare > 1)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"slice {assignment.SliceId}: memory must be positive and compute share in (0, 1]"));
        }

        if (_slices.TryAdd(assignment.SliceId, new AcceleratorSlice(assignment)))
        {
            AgentLog.SliceAssigned(_logger, assignment.SliceId, assignment.SliceType, assignment.Host, assignment.Ordinal);
        }
    }

    public bool Release(string sliceId)
    {
        if (!_slices.TryRemove(sliceId, out AcceleratorSlice? slice))
        {
            return false;
        }

        slice.RetireAll();
        Released?.Invoke(sliceId);
        AgentLog.SliceReleased(_logger, sliceId);
        return true;
    }

    /// <summary>Makes the held slices exactly the broker's list.</summary>
    public void Reconcile(IEnumerable<SliceAssignment> assigned)
    {
        var wanted = assigned.ToDictionary(s => s.SliceId, StringComparer.Ordinal);
        foreach (string held in _slices.Keys)
        {
            if (!wanted.ContainsKey(held))
            {
                Release(held);
            }
        }

        foreach (SliceAssignment assignment in wanted.Values)
        {
            if (!_slices.ContainsKey(assignment.SliceId))
            {
                Assign(assignment);
            }
        }
    }

    public AcceleratorSlice Get(string sliceId)
    {
        if (_slices.TryGetValue(sliceId, out AcceleratorSlice? slice))
        {
            return slice;
        }

        throw new RpcException(new Status(StatusCode.NotFound,
            $"slice '{sliceId}' is not held by this agent (it may have been detached)"));
    }

    /// <summary>Finds a loaded model and takes a lease on it; the caller must <see cref="LoadedModel.Release"/>.</summary>
    public LoadedModel AcquireModel(string sliceId, string modelId)
    {
        AcceleratorSlice slice = Get(sliceId);
        if (slice.Models.TryGetValue(modelId, out LoadedModel? model) && model.TryAcquire())
        {
            return model;
        }

        string loaded = slice.Models.IsEmpty ? "none" : string.Join(", ", slice.Models.Keys.Order(StringComparer.Ordinal));
        throw new RpcException(new Status(StatusCode.NotFound,
            $"unknown model '{modelId}' on slice '{sliceId}'; loaded models: {loaded}"));
    }
}
