using AccelBroker.Broker.Services;

namespace AccelBroker.Broker;

/// <summary>Maps the broker's endpoints.</summary>
public static class BrokerEndpointRouteBuilderExtensions
{
    /// <summary>Maps the <c>accelbroker.v1.Broker</c> gRPC service; needs <see cref="BrokerServiceCollectionExtensions.AddAccelBroker"/>.</summary>
    /// <returns>The builder of the mapped gRPC service, for conventions such as authorization.</returns>
    public static GrpcServiceEndpointConventionBuilder MapAccelBroker(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<BrokerGrpcService>();
    }
}
