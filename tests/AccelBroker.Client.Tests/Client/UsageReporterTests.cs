using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccelBroker.Client.Internal;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Xunit;

namespace AccelBroker.Tests.Client;

public sealed class UsageReporterTests
{
    [Fact]
    public async Task AnUnreachableBrokerNeitherThrowsNorHoldsUpDispose()
    {
        // A loopback port nobody listens on: the connection is refused.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using GrpcChannel channel = AgentChannels.Create($"http://127.0.0.1:{port}", TimeSpan.FromSeconds(5));
        var usage = new SessionUsage();
        usage.Succeeded("m", TimeSpan.FromMilliseconds(3));
        var failed = new FailedCallSignal();
        var reporter = new UsageReporter(new AccelBroker.Protocol.V1.Broker.BrokerClient(channel.Intercept(failed)), usage, "acc-1", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(60));
        // A periodic report has been tried and has failed before the session closes.
        await failed.FirstFailure.WaitAsync(TimeSpan.FromSeconds(30));

        var disposing = Stopwatch.StartNew();
        await reporter.DisposeAsync();

        Assert.True(disposing.Elapsed < TimeSpan.FromSeconds(3), $"dispose took {disposing.Elapsed}");
    }

    [Fact]
    public void RunsAreCountedPerModelWithFailuresApart()
    {
        var usage = new SessionUsage();
        usage.Succeeded("b", TimeSpan.FromMilliseconds(4));
        usage.Succeeded("a", TimeSpan.FromMilliseconds(2));
        usage.Succeeded("a", TimeSpan.FromMilliseconds(6));
        Assert.False(usage.Failed("a"));

        var models = usage.ToProto();

        Assert.Equal(["a", "b"], models.Select(m => m.ModelId));
        Assert.Equal((2, 1, 2), (models[0].Inferences, models[0].Failures, models[0].Total.Count));
        Assert.Equal(0.008, models[0].Total.SumSeconds, 12);
        Assert.Equal(4, usage.Version);
    }

    /// <summary>Completes <see cref="FirstFailure"/> when a unary call through it has failed.</summary>
    private sealed class FailedCallSignal : Interceptor
    {
        private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstFailure => _failed.Task;

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            AsyncUnaryCall<TResponse> call = continuation(request, context);
            _ = call.ResponseAsync.ContinueWith(t => _failed.TrySetResult(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return call;
        }
    }
}
