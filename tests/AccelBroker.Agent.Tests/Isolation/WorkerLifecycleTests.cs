using System.Diagnostics;
using AccelBroker.Agent.Isolation;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>Slices execute in worker processes of their own, which live and die with the slice.</summary>
public sealed class WorkerLifecycleTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public WorkerLifecycleTests(ClusterFixture fixture) => _cluster = fixture.Cluster;

    [Fact]
    public async Task EachSliceRunsInAWorkerProcessOfItsOwnThatEndsWithTheSlice()
    {
        await using AcceleratorSession first = await _cluster.OpenSessionAsync();
        AcceleratorSession second = await _cluster.OpenSessionAsync();
        try
        {
            foreach (AcceleratorSession session in new[] { first, second })
            {
                RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
                ModelOutput output = await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
                AssertClose(Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray(), output[0].ToSingleArray());
            }

            WorkerProcess one = CurrentWorker(first);
            WorkerProcess two = CurrentWorker(second);
            Assert.NotEqual(one.ProcessId, two.ProcessId);
            Assert.NotEqual(Environment.ProcessId, one.ProcessId);
            Assert.True(Directory.Exists($"/proc/{one.ProcessId}"));

            // Lane files are unlinked once both sides mapped them: nothing of a run is left on disk.
            Assert.Empty(Directory.EnumerateFiles(SharedLane.Directory, $"accelbroker-agent-{Environment.ProcessId}-{one.ProcessId}-*"));
            Assert.Empty(Directory.EnumerateFiles(SharedLane.Directory, $"accelbroker-worker-{one.ProcessId}-*"));

            await _cluster.BrokerClient.DetachAsync(new DetachRequest { Host = second.Accelerator.Host, Ordinal = second.Accelerator.Ordinal }, deadline: TestCluster.Deadline());
            await two.Exited.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(one.IsAlive, "detaching one slice stops its worker only");
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task AWorkerKilledFromOutsideCostsItsSliceOnlyAReloadAndNeighboursNothing()
    {
        await using AcceleratorSession victim = await _cluster.OpenSessionAsync();
        await using AcceleratorSession neighbour = await _cluster.OpenSessionAsync();
        RemoteModel model = await victim.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        RemoteModel other = await neighbour.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();
        WorkerProcess killed = CurrentWorker(victim);
        WorkerProcess spared = CurrentWorker(neighbour);

        Process.GetProcessById(killed.ProcessId).Kill();
        Assert.Contains("SIGKILL", await killed.Exited.WaitAsync(TimeSpan.FromSeconds(20)), StringComparison.Ordinal);

        // The next run reloads the model in a new worker from the agent's store: no error, no upload.
        ModelOutput output = await victim.RunAsync(model, [input]);
        AssertClose(expected, output[0].ToSingleArray());
        Assert.NotEqual(killed.ProcessId, CurrentWorker(victim).ProcessId);
        ListModelsResponse models = await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = victim.Accelerator.Id }, deadline: TestCluster.Deadline());
        Assert.Equal(2, models.Models.Single().LoadCount);

        Assert.Same(spared, CurrentWorker(neighbour));
        AssertClose(expected, (await neighbour.RunAsync(other, [input]))[0].ToSingleArray());
    }

    [Fact]
    public async Task UnloadingASmallModelKeepsTheSlicesWorker()
    {
        await using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        WorkerProcess worker = CurrentWorker(session);
        long grew = worker.ResidentBytes()!.Value - worker.BaselineBytes;

        await session.UnloadModelAsync(model);

        // Only a worker holding memory that nothing accounts for is replaced; a restart costs the next load ~1 s.
        Assert.True(grew < SliceWorker.RecycleAboveBytes, $"loading demo_mlp grew its worker by {grew} bytes");
        Assert.Same(worker, CurrentWorker(session));
        Assert.Equal(0, _cluster.SliceWorkerOf(session.Accelerator.Id).Recycles);
    }

    [Fact]
    public async Task AWorkerWhoseAgentIsGoneEndsItselfWhileItsInputIsStillOpen()
    {
        // A shell stands in for the agent: it starts a worker whose input stays open (sleep keeps the pipe), prints
        // its pid and exits. Only the worker's watch on its parent can end it before the sleep does.
        string apphost = Path.Combine(AppContext.BaseDirectory, "AccelBroker.Agent");
        var shell = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        shell.ArgumentList.Add("-c");
        shell.ArgumentList.Add("sleep 60 | \"$0\" worker --agent-pid $$ --device cpu --threads 1 --lanes 1 >/dev/null 2>&1 & echo $!");
        shell.ArgumentList.Add(apphost);
        using Process started = Process.Start(shell)!;
        int worker = int.Parse((await started.StandardOutput.ReadLineAsync())!, System.Globalization.CultureInfo.InvariantCulture);
        await started.WaitForExitAsync();

        var clock = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{worker}") && !IsZombie(worker) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        Assert.True(!Directory.Exists($"/proc/{worker}") || IsZombie(worker), $"worker {worker} outlived its agent by {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "it ended only when its input closed");
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Trim().StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"element {i}: {actual[i]}, expected {expected[i]}");
        }
    }

    private WorkerProcess CurrentWorker(AcceleratorSession session) =>
        _cluster.SliceWorkerOf(session.Accelerator.Id).Current ?? throw new InvalidOperationException($"slice {session.Accelerator.Id} has no live worker");
}
