using AccelBroker.Protocol.V1;

namespace AccelBroker.Client.Internal;

/// <summary>
/// A load request from <see cref="ModelLoadOptions"/>, and the loaded model from the agent's answer: one copy for
/// sessions and slice clients, so precision, warm-up specs, batching and alias reach the agent the same way.
/// </summary>
internal static class ModelLoads
{
    public static LoadModelRequest Request(string sliceId, string sha256, ModelLoadOptions options)
    {
        var request = new LoadModelRequest { SliceId = sliceId, Sha256 = sha256, Precision = WireConversion.ToWire(options.Precision), Alias = options.Alias };
        if (options.Batching is { } batching)
        {
            request.Batching = new BatchingConfig { MaxBatchSize = batching.MaxBatchSize, MaxDelayMicros = (long)batching.MaxDelay.TotalMicroseconds };
        }

        foreach ((TensorDataType dataType, long[] shape) in options.WarmupInputs)
        {
            var spec = new TensorSpec { Dtype = WireConversion.ToWire(dataType) };
            spec.Shape.AddRange(shape);
            request.WarmupInputs.Add(spec);
        }

        return request;
    }

    public static RemoteModel Loaded(LoadModelResponse response, string sha256, long length, ModelLoadOptions options, bool uploaded) =>
        new(response.ModelId, sha256, length, options.Precision, response.Device, uploaded)
        {
            ChargedBytes = response.ChargedBytes,
            EvictedModelIds = [.. response.EvictedModelIds],
            SliceChargedBytes = response.SliceChargedBytes,
        };
}
