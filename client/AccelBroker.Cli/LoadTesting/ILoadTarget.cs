namespace AccelBroker.Cli.LoadTesting;

/// <summary>What a load test's users call: one request to one of <see cref="Models"/> models.</summary>
internal interface ILoadTarget
{
    /// <summary>How many models the users choose among.</summary>
    int Models { get; }

    /// <summary>A name for model <paramref name="model"/> in the report.</summary>
    string NameOf(int model);

    /// <summary>One request to model <paramref name="model"/>; a failure is an <see cref="Grpc.Core.RpcException"/> with its status.</summary>
    Task RunAsync(int model, CancellationToken cancellationToken);
}
