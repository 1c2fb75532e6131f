using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>Interceptors given to a session see every broker and agent call: where credentials will go.</summary>
public sealed class InterceptorSeamTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public InterceptorSeamTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task EveryCallPassesThroughTheSessionsInterceptors()
    {
        var recorder = new RecordingInterceptor();
        using AcceleratorSession session = await _cluster.OpenSessionAsync(new AcceleratorSessionOptions { Interceptors = [recorder] });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        await session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 2, 2)]);

        Assert.Contains("/accelbroker.v1.Broker/ResolveAccelerator", recorder.Methods);
        Assert.Contains("/accelbroker.v1.InferenceAgent/LoadModel", recorder.Methods);
        Assert.Contains("/accelbroker.v1.InferenceAgent/Run", recorder.Methods);
    }

    private sealed class RecordingInterceptor : Interceptor
    {
        public List<string> Methods { get; } = [];

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            lock (Methods)
            {
                Methods.Add(context.Method.FullName);
            }

            return continuation(request, context);
        }
    }
}
