using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Models;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Execution;

/// <summary>The checks a load request passes before anything is read or loaded, with the messages users see.</summary>
internal static class LoadRequestChecks
{
    public const int MaxAliasLength = 64;
    public const int MaxBatchSize = 4096;
    public static readonly TimeSpan MaxBatchDelay = TimeSpan.FromSeconds(1);

    public static string Sha256(string requestedSha256)
    {
        string sha256 = requestedSha256.ToLowerInvariant();
        if (!ModelStore.IsSha256(sha256))
        {
            throw DomainException.Invalid($"sha256 must be 64 hex digits, got '{requestedSha256}'");
        }

        return sha256;
    }

    /// <summary>The precision to load at: unspecified (a caller that left it unset) is fp32, as it always was.</summary>
    public static Precision Precision(Precision precision)
    {
        if (!Enum.IsDefined(precision))
        {
            throw DomainException.Invalid($"unknown precision {(int)precision}");
        }

        return precision == Protocol.V1.Precision.Unspecified ? Protocol.V1.Precision.Fp32 : precision;
    }

    public static string Alias(string alias)
    {
        if (alias.Length > MaxAliasLength || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw DomainException.Invalid($"alias must be at most {MaxAliasLength} letters, digits, '.', '_' or '-', got '{alias}'");
        }

        return alias;
    }

    public static BatchingOptions? Batching(BatchingConfig? batching)
    {
        if (batching is null)
        {
            return null;
        }

        if (batching.MaxBatchSize is < 0 or > MaxBatchSize)
        {
            throw DomainException.Invalid($"batching max_batch_size must be between 0 and {MaxBatchSize}, got {batching.MaxBatchSize}");
        }

        if (batching.MaxDelayMicros < 0 || batching.MaxDelayMicros > (long)MaxBatchDelay.TotalMicroseconds)
        {
            throw DomainException.Invalid($"batching max_delay_micros must be between 0 and {(long)MaxBatchDelay.TotalMicroseconds}, got {batching.MaxDelayMicros}");
        }

        return batching.MaxBatchSize <= 1 ? null : new BatchingOptions(batching.MaxBatchSize, TimeSpan.FromMicroseconds(batching.MaxDelayMicros));
    }

    /// <summary>
    /// Warm-up inputs are zeros the worker allocates before anything is measured: they may take what a run's inputs
    /// may (this agent's limit per run, and per input), checked before the worker is asked, or a few bytes of
    /// request could make it allocate gigabytes. What a warm-up then takes beyond its slice's budget is measured
    /// and refused as before.
    /// </summary>
    public static void Warmup(IReadOnlyList<TensorSpec> warmup, long maxRequestBytes)
    {
        long total = 0;
        for (int i = 0; i < warmup.Count; i++)
        {
            TensorSpec spec = warmup[i];
            string described = $"{DataTypeSizes.Name(spec.Dtype)} {DataTypeSizes.FormatShape(spec.Shape)}";
            int size = DataTypeSizes.ElementSize(spec.Dtype);
            if (size == 0)
            {
                // The worker's own refusal, word for word, as before this check existed.
                throw DomainException.Invalid($"unsupported dtype {DataTypeSizes.Name(spec.Dtype)}");
            }

            long bytes;
            try
            {
                bytes = DataTypeSizes.ByteCount(spec.Shape, size);
            }
            catch (Exception ex) when (ex is ArgumentException or OverflowException)
            {
                throw DomainException.Invalid($"warm-up input {i}: invalid shape {DataTypeSizes.FormatShape(spec.Shape)}: {ex.Message}");
            }

            // Compared before adding, so a huge input cannot wrap the total round.
            if (bytes > maxRequestBytes - total)
            {
                throw DomainException.Exhausted($"warm-up inputs exceed this agent's limit of {maxRequestBytes} bytes per run (input {i}: {described} needs {bytes} bytes)");
            }

            if (bytes > InputDecoder.MaxTensorBytes)
            {
                throw DomainException.Exhausted($"warm-up input {i}: {described} needs {bytes} bytes, over this agent's limit of {InputDecoder.MaxTensorBytes} bytes per input");
            }

            total += bytes;
        }
    }
}
