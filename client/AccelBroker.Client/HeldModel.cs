namespace AccelBroker.Client;

/// <summary>Model bytes an agent holds in its store, by content address, ready to load onto its slices or to benchmark.</summary>
/// <param name="Sha256">SHA-256 of the TorchScript bytes (lower-case hex).</param>
/// <param name="Length">Size of the TorchScript file in bytes.</param>
/// <param name="Uploaded">Whether the call that returned it sent the bytes (false when the agent held them already).</param>
public sealed record HeldModel(string Sha256, long Length, bool Uploaded);
