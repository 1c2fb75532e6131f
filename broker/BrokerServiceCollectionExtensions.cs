using AccelBroker.Broker.Agents;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Health;
using AccelBroker.Broker.Placement;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Pricing;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Storage.Import;
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
        AddStores(services, options.DataDir);
        services.TryAddSingleton<SigningKeyRing>();
        services.TryAddSingleton<AccessTokenMinter>();
        services.TryAddSingleton<AttachmentBook>();
        services.TryAddSingleton<ApiKeyBook>();
        services.TryAddSingleton<ApiKeyAdministration>();
        services.TryAddSingleton<BrokerPolicy>();
        services.TryAddSingleton<BrokerAuthorization>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AdminKeyBootstrap>());
        services.TryAddSingleton<EnrollmentBook>();
        services.TryAddSingleton<AgentAuthenticator>();
        services.TryAddSingleton<AgentEnrollment>();
        services.TryAddSingleton<AgentRegistry>();
        services.TryAddSingleton<FleetDescriber>();
        services.TryAddSingleton<IAgentControlClient, GrpcAgentControlClient>();
        services.TryAddSingleton<PlacementGate>();
        services.TryAddSingleton<PlacementProblems>();
        services.TryAddSingleton<AttachmentCoordinator>();
        services.TryAddSingleton<SliceHandover>();
        services.TryAddSingleton<SliceRelocator>();
        services.TryAddSingleton<AgentDrain>();
        services.TryAddSingleton<UsageBook>();
        services.TryAddSingleton<UsageAccountant>();
        if (options.DataDir is not null)
        {
            services.TryAddSingleton<UsageSaver>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UsageSaver>(provider => provider.GetRequiredService<UsageSaver>()));
        }

        services.TryAddSingleton<BrokerMetrics>();
        services.AddHostHealth().AddCheck<BrokerReadinessCheck>("store", tags: [HostHealth.ReadyTag]);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AgentHealthMonitor>());
        return new AccelBrokerBuilder(services);
    }

    // Without a data directory every kind lives in memory; with one, all of them in broker.db behind one connection owner.
    private static void AddStores(IServiceCollection services, string? dataDir)
    {
        if (dataDir is null)
        {
            services.TryAddSingleton<IStoreProbe, InMemoryStoreProbe>();
            services.TryAddSingleton<IAttachmentStore, InMemoryAttachmentStore>();
            services.TryAddSingleton<IAgentStore, InMemoryAgentStore>();
            services.TryAddSingleton<IApiKeyStore, InMemoryApiKeyStore>();
            services.TryAddSingleton<IEnrollmentTokenStore, InMemoryEnrollmentTokenStore>();
            services.TryAddSingleton<IAgentCredentialStore, InMemoryAgentCredentialStore>();
            services.TryAddSingleton<ISigningKeyStore, InMemorySigningKeyStore>();
            return;
        }

        services.TryAddSingleton(provider =>
        {
            ILogger logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SqliteBrokerDatabase).FullName!);
            return SqliteBrokerDatabase.Open(dataDir, LegacyImport.Into(dataDir, provider.GetRequiredService<TimeProvider>(), logger), logger);
        });
        services.TryAddSingleton<IStoreProbe>(provider => provider.GetRequiredService<SqliteBrokerDatabase>());
        services.TryAddSingleton<IAttachmentStore, SqliteAttachmentStore>();
        services.TryAddSingleton<IAgentStore, SqliteAgentStore>();
        services.TryAddSingleton<IApiKeyStore, SqliteApiKeyStore>();
        services.TryAddSingleton<IEnrollmentTokenStore, SqliteEnrollmentTokenStore>();
        services.TryAddSingleton<IAgentCredentialStore, SqliteAgentCredentialStore>();
        services.TryAddSingleton<ISigningKeyStore, SqliteSigningKeyStore>();
        services.TryAddSingleton<IUsageStore, SqliteUsageStore>();
    }
}
