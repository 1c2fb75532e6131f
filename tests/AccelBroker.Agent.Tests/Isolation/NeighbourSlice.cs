using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>
/// A tenant minding its own business beside the crash corpus: a tiny slice serving demo_mlp (whose answer is the
/// committed demo_mlp.output0.npy) and <see cref="SpecialModels.MarkerMlp"/> (whose weights another tenant must never
/// see). After every hostile case it must still answer, and answer the same.
/// </summary>
internal sealed class NeighbourSlice : IAsyncDisposable
{
    private readonly AcceleratorSession _session;
    private readonly RemoteModel _mlp;
    private readonly RemoteModel _marker;
    private readonly Tensor _input = Fixtures.Npy("demo_mlp.input0.npy");
    private readonly float[] _expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();
    private readonly byte[] _markerOutput;

    private NeighbourSlice(AcceleratorSession session, RemoteModel mlp, RemoteModel marker, byte[] markerOutput)
    {
        _session = session;
        _mlp = mlp;
        _marker = marker;
        _markerOutput = markerOutput;
    }

    public string SliceId => _session.Accelerator.Id;

    public static async Task<NeighbourSlice> StartAsync(TestCluster cluster)
    {
        AcceleratorSession session = await cluster.OpenSessionAsync(new AcceleratorSessionOptions { UsageReportInterval = TimeSpan.Zero });
        RemoteModel mlp = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        RemoteModel marker = await session.LoadModelAsync(SpecialModels.MarkerMlp());
        // The marker model is not run in this process (it is a rewritten file): its first remote answer is the reference.
        ModelOutput first = await session.RunAsync(marker, [Fixtures.Npy("demo_mlp.input0.npy")]);
        var neighbour = new NeighbourSlice(session, mlp, marker, first[0].Data.ToArray());
        await neighbour.AssertServesAsync("start");
        return neighbour;
    }

    /// <summary>Both models answer as before; in this design that also shows the agent process is alive.</summary>
    public async Task AssertServesAsync(string after)
    {
        ModelOutput mlp;
        ModelOutput marker;
        try
        {
            mlp = await _session.RunAsync(_mlp, [_input]);
            marker = await _session.RunAsync(_marker, [_input]);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"the neighbour slice stopped serving after {after}: {ex.GetType().Name}: {ex.Message}");
        }

        float[] actual = mlp[0].ToSingleArray();
        Assert.Equal(_expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            // The committed output is torch 1.13's; libtorch 2.10 agrees to about 5e-7.
            Assert.True(Math.Abs(actual[i] - _expected[i]) <= 1e-6 + (1e-5 * Math.Abs(_expected[i])), $"demo_mlp output {i} after {after}: {actual[i]}, expected {_expected[i]}");
        }

        Assert.True(marker[0].Data.Span.SequenceEqual(_markerOutput), $"the marker model's answer changed after {after}");
    }

    public ValueTask DisposeAsync() => _session.DisposeAsync();
}
