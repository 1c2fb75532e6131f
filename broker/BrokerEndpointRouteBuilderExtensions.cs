using AccelBroker.Broker.Services;

namespace AccelBroker.Broker;

/// <summary>Maps the broker's endpoints.</summary>
public static class BrokerEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the <c>accelbroker.v1.Broker</c> gRPC service and the standard <c>grpc.health.v1.Health</c> service
    /// (readiness as <c>""</c>, liveness as <c>liveness</c>, open without a key); needs <see cref="BrokerServiceCollectionExtensions.AddAccelBroker"/>.
    /// </summary>
    /// <returns>The builder of the mapped Broker service, for conventions such as authorization.</returns>
    public static GrpcServiceEndpointConventionBuilder MapAccelBroker(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGrpcHealthChecksService();
        return endpoints.MapGrpcService<BrokerGrpcService>();
    }
}
