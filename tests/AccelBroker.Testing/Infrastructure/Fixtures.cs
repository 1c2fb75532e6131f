using AccelBroker.Client;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>The committed TorchScript fixtures (tests/models), copied next to the test assembly.</summary>
internal static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "models", name);

    public static Tensor Npy(string name) => AccelBroker.Client.Npy.Read(Path(name));
}
