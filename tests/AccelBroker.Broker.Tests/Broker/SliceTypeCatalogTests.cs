using AccelBroker.Broker;
using AccelBroker.Broker.Catalog;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class SliceTypeCatalogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-catalog-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void DefaultIsTheEia2Family()
    {
        SliceTypeCatalog catalog = SliceTypeCatalog.LoadDefault();

        Assert.Equal(
            [
                new SliceTypeSpec("eia2.medium", 2048L << 20, 0.125, 0.12, 1, 8),
                new SliceTypeSpec("eia2.large", 4096L << 20, 0.25, 0.24, 2, 16),
                new SliceTypeSpec("eia2.xlarge", 8192L << 20, 0.5, 0.34, 4, 32),
            ],
            catalog.SliceTypes);
        Assert.Equal("eia2.medium, eia2.large, eia2.xlarge", catalog.KnownNames);
    }

    [Fact]
    public void ValidFileReplacesTheDefault()
    {
        string path = Write("""
            {
              // Comments and trailing commas are allowed.
              "slice_types": [
                {"name": "tiny", "memory_mib": 512, "compute_share": 0.05, "price_per_hour": 0.01},
                {"name": "whole", "memory_mib": 16384, "compute_share": 1, "price_per_hour": 1.5, "fp32_tflops": 8, "fp16_tflops": 65},
              ]
            }
            """);

        SliceTypeCatalog catalog = SliceTypeCatalog.LoadFile(path);

        Assert.Equal(
            [new SliceTypeSpec("tiny", 512L << 20, 0.05, 0.01, 0, 0), new SliceTypeSpec("whole", 16384L << 20, 1, 1.5, 8, 65)],
            catalog.SliceTypes);
        Assert.True(catalog.TryGet("whole", out SliceTypeSpec? whole));
        Assert.Equal(1.0, whole.ComputeShare);
        Assert.False(catalog.TryGet("eia2.medium", out _));
    }

    [Theory]
    [InlineData("""{"slice_types":[{"name":"","memory_mib":1,"compute_share":0.5,"price_per_hour":0}]}""", "slice type #1 has an empty name")]
    [InlineData("""{"slice_types":[{"memory_mib":1,"compute_share":0.5,"price_per_hour":0}]}""", "slice type #1 has an empty name")]
    [InlineData("""{"slice_types":[{"name":" a","memory_mib":1,"compute_share":0.5,"price_per_hour":0}]}""", "starts or ends with whitespace")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":0.5,"price_per_hour":0},{"name":"a","memory_mib":2,"compute_share":0.5,"price_per_hour":0}]}""", "slice type name 'a' appears more than once")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":0,"compute_share":0.5,"price_per_hour":0}]}""", "slice type #1 ('a'): memory_mib must be greater than 0")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":-5,"compute_share":0.5,"price_per_hour":0}]}""", "memory_mib must be greater than 0")]
    [InlineData("""{"slice_types":[{"name":"a","compute_share":0.5,"price_per_hour":0}]}""", "memory_mib must be greater than 0")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":0,"price_per_hour":0}]}""", "compute_share must be greater than 0 and at most 1")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":1.01,"price_per_hour":0}]}""", "compute_share must be greater than 0 and at most 1")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":-0.5,"price_per_hour":0}]}""", "compute_share must be greater than 0 and at most 1")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":0.5,"price_per_hour":-0.01}]}""", "price_per_hour must be given and at least 0")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":0.5}]}""", "price_per_hour must be given and at least 0")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1,"compute_share":0.5,"price_per_hour":0,"fp16_tflops":-1}]}""", "fp32_tflops and fp16_tflops must be at least 0")]
    [InlineData("""{"slice_types":[{"name":"b","memory_mib":1,"compute_share":0.5,"price_per_hour":0}, null]}""", "slice type #2 is null")]
    [InlineData("""{"slice_types":[]}""", "has no slice types")]
    [InlineData("""{}""", "has no slice types")]
    [InlineData("""null""", "has no slice types")]
    [InlineData("""{"slice_types":[{"name":"a","memory_mib":1.5,"compute_share":0.5,"price_per_hour":0}]}""", "is not valid JSON")]
    [InlineData("""{"slice_types": [""", "is not valid JSON")]
    [InlineData("""not json""", "is not valid JSON")]
    public void InvalidFileIsRejectedNamingTheFileAndTheProblem(string json, string problem)
    {
        string path = Write(json);

        var ex = Assert.Throws<BrokerConfigurationException>(() => SliceTypeCatalog.LoadFile(path));

        Assert.StartsWith($"catalog file '{path}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsRejectedNamingTheFile()
    {
        string path = Path.Combine(_directory, "missing.json");

        var ex = Assert.Throws<BrokerConfigurationException>(() => SliceTypeCatalog.LoadFile(path));

        Assert.StartsWith($"catalog file '{path}' cannot be read", ex.Message, StringComparison.Ordinal);
    }

    private string Write(string json)
    {
        string path = Path.Combine(_directory, $"catalog-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
