using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Health;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Security;
using AccelBroker.Agent.Services;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Health;
using AccelBroker.Hosting.Startup;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.Wire;
using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AccelBroker.Agent;

/// <summary>Registers an accelerator agent's services.</summary>
public static class AgentServiceCollectionExtensions
{
    /// <summary>
    /// Adds the agent's services, its registration with the broker (when <see cref="AgentOptions.BrokerAddress"/> is
    /// set) and gRPC. Services registered before win where the agent uses <c>TryAdd</c> (a <see cref="TimeProvider"/>
    /// or an eviction policy from a test, for example). The device is resolved when first needed; <see cref="AgentHost.Build"/>
    /// resolves it at once. Map the endpoints with <see cref="AgentEndpointRouteBuilderExtensions.MapAcceleratorAgent"/>.
    /// </summary>
    /// <returns>A builder for further configuration of the agent's services.</returns>
    public static IAcceleratorAgentBuilder AddAcceleratorAgent(this IServiceCollection services, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options);
        services.TryAddSingleton(_ => DeviceProbe.Resolve(options.Device));
        services.TryAddSingleton<AgentIdentity>();
        services.TryAddSingleton<AgentCredential>();
        services.TryAddSingleton(provider => new AccessTokenVerifier(provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<BrokerTokenKeys>();
        services.TryAddSingleton<BrokerLease>();
        services.TryAddSingleton<AgentPolicy>();
        // One instance for every call (gRPC would otherwise make an interceptor per call).
        services.TryAddSingleton<AgentAuthorization>();
        services.TryAddSingleton<ServerReady>();
        services.TryAddSingleton<RegistrationState>();
        services.TryAddSingleton<IDeviceCheck, TensorDeviceCheck>();
        services.TryAddSingleton<DeviceHealthMonitor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DeviceHealthMonitor>(provider => provider.GetRequiredService<DeviceHealthMonitor>()));
        services.AddHostHealth().AddCheck<AgentReadinessCheck>("agent", tags: [HostHealth.ReadyTag]);
        services.TryAddSingleton(provider => ClientCertificate.FromFiles(options.TlsClientCertificateFile, options.TlsClientKeyFile, provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(new ClientCertificateRequirement(options.ClientCaFile is not null));
        services.TryAddSingleton(provider => new ModelStore(options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "accelbroker-agent", "models"), options.ModelStoreBytes)
        {
            InUse = sha256 => provider.GetRequiredService<SliceRegistry>().Holds(sha256),
        });
        services.TryAddSingleton<UploadAdmission>();
        services.TryAddSingleton<UploadReceiver>();
        services.TryAddSingleton<IEvictionPolicy>(LeastRecentlyUsedEviction.Instance);
        services.TryAddSingleton<SliceRegistry>();
        services.TryAddSingleton<SliceWorkers>();
        services.TryAddSingleton<QuarantinedModels>();
        services.TryAddSingleton<AgentMetrics>();
        services.TryAddSingleton(provider =>
        {
            SliceRegistry slices = provider.GetRequiredService<SliceRegistry>();
            return new ComputeScheduler(
                Math.Max(1, options.ExecutionSlots),
                provider.GetRequiredService<TimeProvider>(),
                isGone: sliceId => sliceId != LocalBenchmark.ComputeTenant && !slices.IsAssigned(sliceId));
        });
        services.TryAddSingleton<InferenceRunner>();
        services.TryAddSingleton<InferenceMetering>();
        services.TryAddSingleton<ModelLoader>();
        services.TryAddSingleton<ModelResidency>();
        services.TryAddSingleton<RunPath>();
        services.TryAddSingleton<LocalBenchmark>();
        services.TryAddSingleton<AgentWiring>();
        services.TryAddSingleton<InferenceAgentService>();
        services.TryAddSingleton<InferenceEndpoint>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<InferenceEndpoint>, InferenceEndpointMethods>());
        // Wiring first: the registration below may be handed slices as soon as it starts.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AgentWiring>(provider => provider.GetRequiredService<AgentWiring>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BrokerRegistration>());
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = WireLimits.UnaryPayloadBytes + (1024 * 1024);
            // Outputs of a unary run may be larger than its inputs; the client accepts them.
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<DomainErrorInterceptor>();
            // Mutual TLS before tokens: with --client-ca-file, AgentControl needs a client certificate from that CA.
            grpc.Interceptors.Add<ControlCertificateInterceptor>();
            // Inside the error mapping: every method of both services needs a broker-signed token.
            grpc.Interceptors.Add<AgentAuthorization>();
        });
        return new AcceleratorAgentBuilder(services);
    }
}
