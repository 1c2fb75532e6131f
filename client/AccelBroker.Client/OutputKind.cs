namespace AccelBroker.Client;

/// <summary>The structure a model's forward returned.</summary>
public enum OutputKind
{
    /// <summary>A single tensor.</summary>
    Tensor,

    /// <summary>A tuple of tensors.</summary>
    Tuple,

    /// <summary>A list of tensors.</summary>
    List,
}
