using AccelBroker.Client.Pricing;
using Xunit;

namespace AccelBroker.Tests.Pricing;

public sealed class PriceCatalogTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"accel-prices-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void TheDefaultHoldsTheReferencePrices()
    {
        PriceCatalog prices = PriceCatalog.Default;

        Assert.Equal(0.085, prices.GetInstance("c5.large").PricePerHour);
        Assert.Equal(0.68, prices.GetInstance("c5.4xlarge").PricePerHour);
        Assert.Equal(InstancePrice.GpuKind, prices.GetInstance("g4dn.xlarge").Kind);
        Assert.Equal(1.624, prices.GetInstance("g5.4xlarge").PricePerHour);
        Assert.Equal(InstancePrice.CpuKind, prices.GetInstance("m5.large").Kind);
        Assert.Equal(0.34, prices.GetSlice("eia2.xlarge").PricePerHour);
        Assert.Equal(0.52, prices.GetSlice("eia1.xlarge").PricePerHour);
    }

    [Fact]
    public void UnknownTypesAreErrorsListingTheKnownOnes()
    {
        ArgumentException instance = Assert.Throws<ArgumentException>(() => PriceCatalog.Default.GetInstance("c9.huge"));
        ArgumentException slice = Assert.Throws<ArgumentException>(() => PriceCatalog.Default.GetSlice("eia9.tiny"));

        Assert.StartsWith("unknown instance type 'c9.huge'; known: c5.large, m5.large, c5.xlarge,", instance.Message);
        Assert.StartsWith("unknown slice type 'eia9.tiny'; known: eia2.medium, eia2.large, eia2.xlarge,", slice.Message);
    }

    [Fact]
    public void AFileOverridesAndExtendsByDefault()
    {
        File.WriteAllText(_path, """
            { "instance_types": [ { "name": "c5.large", "price_per_hour": 0.1, "kind": "cpu" },
                                  { "name": "my.box", "price_per_hour": 0.02, "kind": "cpu", "vcpus": 8 } ],
              "slice_types": [ { "name": "eia2.medium", "price_per_hour": 0.2 } ] }
            """);

        PriceCatalog prices = PriceCatalog.Load(_path, PriceCatalog.Default);

        Assert.Equal(0.1, prices.GetInstance("c5.large").PricePerHour);
        Assert.Equal("c5.large", prices.InstanceTypes[0].Name);
        Assert.Equal(new InstancePrice("my.box", 0.02, "cpu", 8, null), prices.InstanceTypes[^1]);
        Assert.Equal(PriceCatalog.Default.InstanceTypes.Count + 1, prices.InstanceTypes.Count);
        Assert.Equal(0.2, prices.GetSlice("eia2.medium").PricePerHour);
        Assert.Equal(0.24, prices.GetSlice("eia2.large").PricePerHour);
    }

    [Fact]
    public void ReplaceSwapsOnlyTheListsTheFileGives()
    {
        File.WriteAllText(_path, """{ "replace": true, "instance_types": [ { "name": "only.one", "price_per_hour": 1, "kind": "gpu", "gpu": "X1" } ] }""");

        PriceCatalog prices = PriceCatalog.Load(_path, PriceCatalog.Default);

        Assert.Equal(["only.one"], prices.InstanceTypes.Select(t => t.Name));
        Assert.Equal("X1", prices.GetInstance("only.one").Gpu);
        Assert.Equal(PriceCatalog.Default.SliceTypes, prices.SliceTypes);
    }

    [Theory]
    [InlineData("{", "is not valid JSON")]
    [InlineData("{}", "has neither instance_types nor slice_types")]
    [InlineData("""{"instance_types":[{"name":"a","kind":"cpu"}]}""", "instance type #1 ('a'): price_per_hour must be given, finite and at least 0")]
    [InlineData("""{"instance_types":[{"name":"a","price_per_hour":-1,"kind":"cpu"}]}""", "instance type #1 ('a'): price_per_hour must be given, finite and at least 0")]
    [InlineData("""{"instance_types":[{"name":"a","price_per_hour":1,"kind":"tpu"}]}""", "instance type #1 ('a'): kind must be \"cpu\" or \"gpu\", got 'tpu'")]
    [InlineData("""{"instance_types":[{"price_per_hour":1,"kind":"cpu"}]}""", "instance type #1: name must be given")]
    [InlineData("""{"slice_types":[{"name":"s","price_per_hour":1},{"name":"s","price_per_hour":2}]}""", "slice type 's' appears more than once")]
    public void BadFilesNameTheFileAndTheProblem(string json, string problem)
    {
        File.WriteAllText(_path, json);

        InvalidDataException ex = Assert.Throws<InvalidDataException>(() => PriceCatalog.Load(_path, PriceCatalog.Default));

        Assert.StartsWith($"prices file '{_path}'", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void AMissingFileIsAClearError()
    {
        InvalidDataException ex = Assert.Throws<InvalidDataException>(() => PriceCatalog.Load(_path, PriceCatalog.Default));

        Assert.StartsWith($"prices file '{_path}' cannot be read:", ex.Message);
    }

    [Fact]
    public void TheProtoRoundTripKeepsEverything()
    {
        PriceCatalog back = PriceCatalog.FromProto(PriceCatalog.Default.ToProto());

        Assert.Equal(PriceCatalog.Default.InstanceTypes, back.InstanceTypes);
        Assert.Equal(PriceCatalog.Default.SliceTypes, back.SliceTypes);
    }
}
