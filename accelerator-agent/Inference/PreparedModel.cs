using AccelBroker.Agent.Execution;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using TorchSharp;

namespace AccelBroker.Agent.Inference;

/// <summary>
/// A TorchScript model loaded into this process and prepared for inference with the code a slice's worker process
/// uses: evaluation mode, no gradients, floating weights cast to the precision; inputs are made, and floating ones
/// cast, as the worker makes them. For measuring a model in-process on this host's CPU (the accel CLI's standalone
/// baseline). Never load untrusted bytes with it: the agent itself runs tenant models only in worker processes.
/// </summary>
/// <remarks>Not thread-safe. Call it inside a <c>torch.NewDisposeScope()</c> and <c>torch.inference_mode()</c>, as the worker does.</remarks>
public sealed class PreparedModel : IDisposable
{
    private readonly torch.jit.ScriptModule _module;
    private readonly torch.ScalarType? _cast;

    private PreparedModel(torch.jit.ScriptModule module, Precision precision)
    {
        _module = module;
        Precision = precision;
        _cast = LoadedModel.CastTypeOf(precision);
    }

    /// <summary>The precision the model executes in.</summary>
    public Precision Precision { get; }

    /// <summary>The device that executes it: always <c>cpu</c>.</summary>
    public string Device => "cpu";

    /// <summary>Loads a TorchScript file onto the CPU and prepares it to execute at <paramref name="precision"/>.</summary>
    /// <param name="path">Path of a TorchScript file.</param>
    /// <param name="precision">Fp32, Fp16 or Bf16.</param>
    /// <returns>The prepared model; dispose it when done.</returns>
    /// <exception cref="DomainException">
    /// "not a loadable TorchScript model: …" or "cannot prepare the model for …: …" with TorchScript's reason, as the
    /// agent refuses such a model.
    /// </exception>
    public static PreparedModel Load(string path, Precision precision)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new PreparedModel(LoadModule(path, DeviceType.CPU, -1, precision), precision);
    }

    /// <summary>Makes an input tensor from raw little-endian bytes, with one copy; floating inputs are cast to the model's precision.</summary>
    /// <param name="dataType">The bytes' element type.</param>
    /// <param name="shape">The tensor's shape.</param>
    /// <param name="data">Element count × element size bytes.</param>
    /// <returns>A CPU tensor owned by the caller's dispose scope.</returns>
    /// <exception cref="DomainException">An unsupported dtype.</exception>
    public torch.Tensor Input(DataType dataType, long[] shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return TorchTensorCodec.ToTorch(dataType, shape, data, torch.CPU, _cast);
    }

    /// <summary>Runs the model's forward once.</summary>
    /// <param name="inputs">Tensors from <see cref="Input"/>, in argument order.</param>
    /// <returns>What the forward returned (a tensor, a tuple or a list of tensors).</returns>
    /// <exception cref="DomainException">"the model rejected its inputs: …" with TorchScript's message, as the agent reports it.</exception>
    public object? Forward(params object[] inputs)
    {
        try
        {
            return _module.call(inputs);
        }
        catch (Exception ex) when (ex is not (DomainException or OperationCanceledException))
        {
            throw TorchErrors.ToDomain(ex, "the model rejected its inputs");
        }
    }

    /// <summary>Frees the module.</summary>
    public void Dispose() => _module.Dispose();

    /// <summary>Loads and prepares a module on a device; the worker's loads come through here too.</summary>
    internal static torch.jit.ScriptModule LoadModule(string path, DeviceType deviceType, long deviceIndex, Precision precision)
    {
        torch.jit.ScriptModule module;
        try
        {
            module = torch.jit.load(path, deviceType, deviceIndex);
        }
        catch (Exception ex)
        {
            throw TorchErrors.ToDomain(ex, "not a loadable TorchScript model");
        }

        try
        {
            LoadedModel.PrepareForInference(module, precision);
            return module;
        }
        catch (Exception ex)
        {
            module.Dispose();
            throw TorchErrors.ToDomain(ex, $"cannot prepare the model for {precision}");
        }
    }
}
