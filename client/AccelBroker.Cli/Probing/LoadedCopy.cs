namespace AccelBroker.Cli.Probing;

/// <summary>
/// One copy the probe loaded: its model id, what the slice charged it, which models it made room by evicting, and
/// what the slice held with it.
/// </summary>
internal sealed record LoadedCopy(string ModelId, long ChargedBytes, IReadOnlyList<string> EvictedModelIds, long SliceChargedBytes);
