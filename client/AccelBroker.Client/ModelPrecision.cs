namespace AccelBroker.Client;

/// <summary>Precision a model executes in on the accelerator.</summary>
public enum ModelPrecision
{
    /// <summary>32-bit floating point, as the model was saved.</summary>
    Fp32,

    /// <summary>The agent casts the model and floating-point inputs to float16.</summary>
    Fp16,

    /// <summary>The agent casts the model and floating-point inputs to bfloat16.</summary>
    Bf16,
}
