using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Models;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

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
}
