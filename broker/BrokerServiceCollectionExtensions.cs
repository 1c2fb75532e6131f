using AccelBroker.Broker.Agents;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Health;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Pricing;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Health;
using AccelBroker.Hosting.Startup;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AccelBroker.Broker;

/// <summary>Registers the broker's services.</summary>
public static class BrokerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the broker's services and gRPC. Everything is added with <c>TryAdd*</c>, so services registered
    /// before (a <see cref="TimeProvider"/> in tests, for example) take precedence.
    /// </summary>
    /// <returns>A builder for further configuration of the broker's services.</returns>
    public static IAccelBrokerBuilder AddAccelBroker(this IServiceCollection services, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);

        services.AddGrpc(grpc =>
        {
            // Tracing outside the error mapping, so a failed span carries the status the caller sees.
            grpc.Interceptors.Add<BrokerTracing>();
            grpc.Interceptors.Add<DomainErrorInterceptor>();
            // Inside the error mapping, so refusals are answered as Unauthenticated or PermissionDenied.
            grpc.Interceptors.Add<BrokerAuthorization>();
            // The methods BrokerAuthorization leaves to agents (register, heartbeat, enrol) are authenticated here.
            grpc.Interceptors.Add<AgentAuthenticationInterceptor>();
        });
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => ClientCertificate.FromFiles(options.TlsClientCertificateFile, options.TlsClientKeyFile, provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(new ClientCertificateRequirement(options.ClientCaFile is not null));
        services.TryAddSingleton(_ => options.CatalogPath is null
            ? SliceTypeCatalog.LoadDefault()
            : SliceTypeCatalog.LoadFile(options.CatalogPath));
        services.TryAddSingleton(provider => ServedPrices.Load(options, provider.GetRequiredService<SliceTypeCatalog>()));
        services.TryAddSingleton<IAttachmentStore>(_ => options.DataDir is null
            ? new InMemoryAttachmentStore()
            : new JsonFileAttachmentStore(options.DataDir));
        services.TryAddSingleton<ISigningKeyStore>(_ => options.DataDir is null
            ? new InMemorySigningKeyStore()
            : new JsonFileSigningKeyStore(options.DataDir));
        services.TryAddSingleton<SigningKeyRing>();
        services.TryAddSingleton<AccessTokenMinter>();
        services.TryAddSingleton<AttachmentBook>();
        services.TryAddSingleton<IApiKeyStore>(_ => options.DataDir is null
            ? new InMemoryApiKeyStore()
            : new JsonFileApiKeyStore(options.DataDir));
        services.TryAddSingleton<ApiKeyBook>();
        services.TryAddSingleton<ApiKeyAdministration>();
        services.TryAddSingleton<BrokerPolicy>();
        services.TryAddSingleton<BrokerAuthorization>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AdminKeyBootstrap>());
        services.TryAddSingleton<IEnrollmentTokenStore>(_ => options.DataDir is null
            ? new InMemoryEnrollmentTokenStore()
            : new JsonFileEnrollmentTokenStore(options.DataDir));
        services.TryAddSingleton<IAgentCredentialStore>(_ => options.DataDir is null
            ? new InMemoryAgentCredentialStore()
            : new JsonFileAgentCredentialStore(options.DataDir));
        services.TryAddSingleton<EnrollmentBook>();
        services.TryAddSingleton<AgentAuthenticator>();
        services.TryAddSingleton<AgentEnrollment>();
        services.TryAddSingleton<IAgentStore, InMemoryAgentStore>();
        services.TryAddSingleton<AgentRegistry>();
        services.TryAddSingleton<FleetDescriber>();
        services.TryAddSingleton<IAgentControlClient, GrpcAgentControlClient>();
        services.TryAddSingleton<AttachmentCoordinator>();
        services.TryAddSingleton<UsageBook>();
        services.TryAddSingleton<UsageAccountant>();
        if (options.DataDir is not null)
        {
            services.TryAddSingleton(_ => new UsageFile(options.DataDir));
            services.TryAddSingleton<UsageSaver>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UsageSaver>(provider => provider.GetRequiredService<UsageSaver>()));
        }

        services.TryAddSingleton<BrokerMetrics>();
        services.TryAddSingleton<IBrokerStoreProbe, InMemoryStoreProbe>();
        services.AddHostHealth().AddCheck<BrokerReadinessCheck>("store", tags: [HostHealth.ReadyTag]);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AgentHealthMonitor>());
        return new AccelBrokerBuilder(services);
    }
}
