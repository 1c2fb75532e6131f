using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Placement;
using AccelBroker.Broker.Pricing;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Services;

/// <summary>
/// The <c>Broker</c> gRPC service. It only translates: the logic lives in <see cref="AgentRegistry"/>,
/// <see cref="AttachmentCoordinator"/> and <see cref="FleetDescriber"/>, and authorization sits in front of
/// these calls (<see cref="BrokerAuthorization"/>) without touching it.
/// </summary>
internal sealed class BrokerGrpcService(
    BrokerOptions options,
    SliceTypeCatalog catalog,
    PriceCatalog prices,
    AgentRegistry registry,
    AttachmentBook book,
    AttachmentCoordinator coordinator,
    FleetDescriber describer,
    UsageAccountant usage,
    ApiKeyAdministration keys,
    AgentEnrollment enrollment,
    EnrollmentBook enrollmentBook,
    AccessTokenMinter tokens,
    AgentDrain drain,
    ILogger<BrokerGrpcService> logger) : global::AccelBroker.Protocol.V1.Broker.BrokerBase
{
    public override Task<RegisterAgentResponse> RegisterAgent(RegisterAgentRequest request, ServerCallContext context)
    {
        if (context.UserState.TryGetValue(AgentAuthenticationInterceptor.PrincipalKey, out object? state) && state is AgentPrincipal principal)
        {
            // An enrolled agent registers under the id it was enrolled with (the authenticator refused any other).
            request.AgentId = principal.AgentId;
        }

        AgentRecord agent = registry.Register(request);
        if (options.AgentEnrollmentRequired && enrollmentBook.IsRevoked(agent.AgentId))
        {
            // Revoked while this registration was in flight: take it back so the agent is never placed on.
            registry.Remove(agent.AgentId);
            throw DomainException.Unauthenticated("agent credential is unknown or revoked; enrol the agent again");
        }

        var response = new RegisterAgentResponse
        {
            AgentId = agent.AgentId,
            HeartbeatInterval = Duration.FromTimeSpan(options.HeartbeatInterval),
            FenceAfter = Duration.FromTimeSpan(options.AgentFenceAfter),
        };
        response.Slices.AddRange(book.AssignmentsOn(agent.AgentId));
        response.TokenKeys.AddRange(tokens.PublishedKeys());
        return Task.FromResult(response);
    }

    public override Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        if (!registry.TryRecordHeartbeat(request.AgentId, out AgentRecord? agent))
        {
            BrokerLog.HeartbeatFromUnknownAgent(logger, request.AgentId);
            throw DomainException.NotFound($"unknown agent '{request.AgentId}'; register again");
        }

        usage.RecordHeartbeat(agent.AgentId, request.Usage, request.Slices);
        var response = new HeartbeatResponse();
        response.Slices.AddRange(book.AssignmentsOn(agent.AgentId));
        response.TokenKeys.AddRange(tokens.PublishedKeys());
        return Task.FromResult(response);
    }

    public override Task<ListSliceTypesResponse> ListSliceTypes(ListSliceTypesRequest request, ServerCallContext context)
    {
        var response = new ListSliceTypesResponse();
        response.SliceTypes.AddRange(catalog.SliceTypes.Select(t => t.ToProto()));
        return Task.FromResult(response);
    }

    public override async Task<AttachResponse> Attach(AttachRequest request, ServerCallContext context)
    {
        // Known host types only: cost reports price the host, and a typo would silently price it at nothing.
        if (request.HostType.Length > 0 && !prices.TryGetInstance(request.HostType, out _))
        {
            throw DomainException.Invalid($"unknown instance type '{request.HostType}'; known: {prices.KnownInstanceNames}");
        }

        var response = new AttachResponse { Accelerator = await coordinator.AttachAsync(request.Host, request.SliceType, request.HostType, request.Allowlist, context.CancellationToken) };
        Accelerator a = response.Accelerator;
        SecurityLog.AcceleratorAttached(logger, a.SliceType, a.Host, a.Ordinal, a.Id, ApiKeyAdministration.CallerName(context), context.Peer);
        LogAllowlist(a, context);
        // After the attach: a credential issued for an attach that then failed would be live yet never handed out.
        keys.IssueHostCredential(request, response, context);
        return response;
    }

    public override Task<ListPricesResponse> ListPrices(ListPricesRequest request, ServerCallContext context) =>
        Task.FromResult(prices.ToProto());

    public override async Task<DetachResponse> Detach(DetachRequest request, ServerCallContext context)
    {
        Accelerator detached = await coordinator.DetachAsync(request.Host, request.Ordinal, context.CancellationToken);
        usage.Forget(detached.Id);
        SecurityLog.AcceleratorDetached(logger, detached.Ordinal, detached.Id, detached.Host, ApiKeyAdministration.CallerName(context), context.Peer);
        keys.RetireHostCredential(detached.Host, context);
        return new() { Accelerator = detached };
    }

    public override async Task<SetAllowedModelsResponse> SetAllowedModels(SetAllowedModelsRequest request, ServerCallContext context)
    {
        Accelerator a = await coordinator.SetAllowedModelsAsync(request.Host, request.Ordinal, request.Allowlist, context.CancellationToken);
        if (a.Allowlist is null)
        {
            SecurityLog.AllowedModelsCleared(logger, a.Host, a.Ordinal, a.Id, ApiKeyAdministration.CallerName(context), context.Peer);
        }
        else
        {
            LogAllowlist(a, context);
        }

        return new() { Accelerator = a };
    }

    public override Task<DescribeAcceleratorsResponse> DescribeAccelerators(DescribeAcceleratorsRequest request, ServerCallContext context) =>
        Task.FromResult(describer.DescribeHost(request.Host));

    public override Task<DescribeAgentsResponse> DescribeAgents(DescribeAgentsRequest request, ServerCallContext context) =>
        Task.FromResult(describer.DescribeAgents());

    public override Task<ResolveAcceleratorResponse> ResolveAccelerator(ResolveAcceleratorRequest request, ServerCallContext context)
    {
        Accelerator accelerator = describer.Resolve(request.Host, request.Ordinal);
        var response = new ResolveAcceleratorResponse { Accelerator = accelerator };
        if (!string.IsNullOrEmpty(accelerator.AgentId))
        {
            SignedToken token = tokens.Slice(accelerator.AgentId, accelerator.Host, accelerator.Id, accelerator.Epoch);
            response.SliceToken = token.Token;
            response.SliceTokenExpiresAt = Timestamp.FromDateTimeOffset(token.ExpiresAt);
        }

        return Task.FromResult(response);
    }

    public override Task<IssueAgentTokenResponse> IssueAgentToken(IssueAgentTokenRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.AgentId))
        {
            throw DomainException.Invalid("agent_id must not be empty");
        }

        if (!registry.TryGet(request.AgentId, out AgentRecord? agent))
        {
            throw DomainException.NotFound($"unknown agent '{request.AgentId}'; accel describe-agents lists them");
        }

        Caller caller = BrokerAuthorization.CallerOf(context) ?? throw DomainException.Unauthenticated("IssueAgentToken needs an operator key");
        SignedToken token = tokens.Operator(agent.AgentId, caller.Name);
        SecurityLog.AgentTokenIssued(logger, caller.ToString(), agent.AgentId, context.Peer);
        return Task.FromResult(new IssueAgentTokenResponse
        {
            Token = token.Token,
            ExpiresAt = Timestamp.FromDateTimeOffset(token.ExpiresAt),
            AgentAddress = agent.Address,
        });
    }

    public override Task<DrainAgentResponse> DrainAgent(DrainAgentRequest request, ServerCallContext context) =>
        drain.DrainAsync(request.AgentId, ApiKeyAdministration.CallerName(context), context.CancellationToken);

    public override Task<UncordonAgentResponse> UncordonAgent(UncordonAgentRequest request, ServerCallContext context) =>
        Task.FromResult(drain.Uncordon(request.AgentId, ApiKeyAdministration.CallerName(context)));

    public override Task<ReportClientUsageResponse> ReportClientUsage(ReportClientUsageRequest request, ServerCallContext context)
    {
        usage.ReportClient(request);
        return Task.FromResult(new ReportClientUsageResponse());
    }

    public override Task<GetUsageResponse> GetUsage(GetUsageRequest request, ServerCallContext context) =>
        Task.FromResult(usage.Describe(request));

    public override Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context) =>
        Task.FromResult(keys.Create(request, context));

    public override Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context) =>
        Task.FromResult(keys.List(request));

    public override Task<RevokeApiKeyResponse> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context) =>
        Task.FromResult(keys.Revoke(request, context));
    public override Task<CreateEnrollmentResponse> CreateEnrollment(CreateEnrollmentRequest request, ServerCallContext context) =>
        Task.FromResult(enrollment.Create(request.Name, request.Ttl?.ToTimeSpan(), request.Reusable));

    public override Task<EnrollAgentResponse> EnrollAgent(EnrollAgentRequest request, ServerCallContext context) =>
        Task.FromResult(enrollment.Enroll(BrokerAuthorization.BearerOf(context)));

    public override Task<ListEnrolledAgentsResponse> ListEnrolledAgents(ListEnrolledAgentsRequest request, ServerCallContext context) =>
        Task.FromResult(enrollment.List());

    public override Task<RevokeAgentResponse> RevokeAgent(RevokeAgentRequest request, ServerCallContext context) =>
        enrollment.RevokeAsync(request.AgentId, context.CancellationToken);

    private void LogAllowlist(Accelerator a, ServerCallContext context)
    {
        if (a.Allowlist is { } allowlist)
        {
            SecurityLog.AllowedModelsSet(logger, a.Host, a.Ordinal, a.Id, allowlist.Sha256.Count, ApiKeyAdministration.CallerName(context), context.Peer);
        }
    }
}
