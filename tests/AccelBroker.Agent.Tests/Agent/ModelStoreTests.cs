using System.Security.Cryptography;
using AccelBroker.Agent.Models;
using AccelBroker.Hosting.Errors;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The agent's content-addressed model store: verified, bounded, least recently used out first.</summary>
public sealed class ModelStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accel-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PastItsCapacityTheLeastRecentlyUsedModelGoes()
    {
        var store = new ModelStore(_directory, capacityBytes: 300);
        string a = await StoreAsync(store, Bytes(100, 1));
        string b = await StoreAsync(store, Bytes(100, 2));
        string c = await StoreAsync(store, Bytes(100, 3));
        Assert.True(store.TryGetLength(a, out _)); // a is now more recent than b

        string d = await StoreAsync(store, Bytes(100, 4));

        Assert.False(store.TryGetLength(b, out _));
        Assert.False(File.Exists(store.PathOf(b)));
        Assert.All([a, c, d], sha => Assert.True(File.Exists(store.PathOf(sha))));
        Assert.Equal(300, store.Bytes);
    }

    [Fact]
    public async Task AStoredModelIsHandedOutOnlyWhileItStillHashesToItsName()
    {
        var store = new ModelStore(_directory);
        string sha = await StoreAsync(store, Bytes(100, 7));
        Assert.Equal(store.PathOf(sha), store.VerifiedPath(sha));

        File.WriteAllBytes(store.PathOf(sha), Bytes(100, 8));

        DomainException corrupted = Assert.Throws<DomainException>(() => store.VerifiedPath(sha));
        Assert.Equal(DomainErrorKind.DataLoss, corrupted.Kind);
        Assert.False(store.TryGetLength(sha, out _));
        Assert.Equal(DomainErrorKind.NotFound, Assert.Throws<DomainException>(() => store.VerifiedPath(sha)).Kind);
    }

    [Fact]
    public async Task LoadedModelsAreNeverEvicted()
    {
        string? loaded = null;
        var store = new ModelStore(_directory, capacityBytes: 200) { InUse = sha => sha == loaded };
        loaded = await StoreAsync(store, Bytes(100, 1));
        string other = await StoreAsync(store, Bytes(100, 2));

        string newest = await StoreAsync(store, Bytes(100, 3));

        Assert.True(store.TryGetLength(loaded, out _));
        Assert.False(store.TryGetLength(other, out _));
        Assert.True(store.TryGetLength(newest, out _));
    }

    [Fact]
    public async Task RecencySurvivesARestart()
    {
        var store = new ModelStore(_directory, capacityBytes: 300);
        string a = await StoreAsync(store, Bytes(100, 1));
        string b = await StoreAsync(store, Bytes(100, 2));
        File.SetLastWriteTimeUtc(store.PathOf(a), DateTime.UtcNow.AddMinutes(1));
        File.SetLastWriteTimeUtc(store.PathOf(b), DateTime.UtcNow.AddMinutes(-1));

        var restarted = new ModelStore(_directory, capacityBytes: 200);
        await StoreAsync(restarted, Bytes(100, 3));

        Assert.True(restarted.TryGetLength(a, out long length));
        Assert.Equal(100, length);
        Assert.False(restarted.TryGetLength(b, out _));
    }

    [Fact]
    public void AModelLargerThanTheStoreIsRefusedBeforeItsBytesArrive()
    {
        var store = new ModelStore(_directory, capacityBytes: 50);

        DomainException error = Assert.Throws<DomainException>(() => store.BeginUpload(new string('a', 64), 51));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        Assert.Equal("a model of 51 bytes does not fit this agent's model store of 50 bytes (--model-store-mib)", error.Message);
        Assert.Empty(Directory.EnumerateFiles(_directory));
    }

    private static byte[] Bytes(int length, byte seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * seed))];

    private static async Task<string> StoreAsync(ModelStore store, byte[] bytes)
    {
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using ModelUpload upload = store.BeginUpload(sha, bytes.Length);
        await upload.AppendAsync(bytes, CancellationToken.None);
        Assert.True(await upload.CompleteAsync(CancellationToken.None));
        return sha;
    }
}
