using AccelBroker.Agent.Inference;
using AccelBroker.Client;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The agent's public in-process model (the CLI's CPU baseline): prepared and fed as a slice's worker does, failing with the agent's messages.</summary>
public sealed class PreparedModelTests
{
    [Fact]
    public void RunsAModelAtFp32WithTheAnswersTheFixtureRecorded()
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        using PreparedModel model = PreparedModel.Load(Fixtures.Path("demo_mlp.pt"), Precision.Fp32);
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();

        var output = (torch.Tensor)model.Forward(model.Input(input.DataType.ToProtocol(), [.. input.Shape], input.Data.Span))!;

        Assert.Equal("cpu", model.Device);
        Assert.Equal(torch.ScalarType.Float32, output.dtype);
        float[] actual = output.data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }

    [Theory]
    [InlineData(Precision.Fp16, torch.ScalarType.Float16)]
    [InlineData(Precision.Bf16, torch.ScalarType.BFloat16)]
    public void AtReducedPrecisionWeightsAndFloatingInputsAreCast(Precision precision, torch.ScalarType expected)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        using PreparedModel model = PreparedModel.Load(Fixtures.Path("demo_mlp.pt"), precision);
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");

        torch.Tensor tensor = model.Input(input.DataType.ToProtocol(), [.. input.Shape], input.Data.Span);
        var output = (torch.Tensor)model.Forward(tensor)!;

        Assert.Equal(precision, model.Precision);
        Assert.Equal(expected, tensor.dtype);
        Assert.Equal(expected, output.dtype);
    }

    [Fact]
    public void BytesThatAreNotTorchScriptAreRefusedWithTheAgentsMessage()
    {
        DomainException error = Assert.Throws<DomainException>(() => PreparedModel.Load(Fixtures.Path("demo_mlp.input0.npy"), Precision.Fp32));

        Assert.Equal(DomainErrorKind.InvalidInput, error.Kind);
        Assert.StartsWith("not a loadable TorchScript model: ", error.Message);
    }

    [Fact]
    public void InputsTheModelRejectsFailWithTheAgentsMessage()
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        using PreparedModel model = PreparedModel.Load(Fixtures.Path("demo_mlp.pt"), Precision.Fp32);

        DomainException error = Assert.Throws<DomainException>(() => model.Forward(model.Input(DataType.Float32, [1, 15], new byte[15 * 4])));

        Assert.Equal(DomainErrorKind.InvalidInput, error.Kind);
        Assert.StartsWith("the model rejected its inputs: ", error.Message);
        Assert.Contains("shapes cannot be multiplied", error.Message);
    }
}
