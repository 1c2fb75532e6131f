using AccelBroker.Client.Internal;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace AccelBroker.Client;

/// <summary>
/// The broker's operator calls: the slice-type catalogue and prices, attaching and detaching accelerators, describing
/// hosts and agents, usage since attach, and the slices themselves (<see cref="OpenSliceAsync"/>). Applications open
/// accelerators with <see cref="AcceleratorSession"/> instead. Thread-safe; dispose it to close its broker channel.
/// </summary>
/// <remarks>
/// Failures surface as <see cref="RpcException"/> with the broker's status and message: InvalidArgument for an unknown
/// slice type (listing the known ones), NotFound for an unknown ordinal (naming the host's), ResourceExhausted when no
/// agent has room, Unavailable when the broker cannot be reached within the call's deadline.
/// </remarks>
public sealed class FleetClient : IDisposable
{
    private readonly FleetClientOptions _options;
    private readonly AgentClientOptions _agents;
    private readonly GrpcChannel _channel;
    private readonly Protocol.V1.Broker.BrokerClient _broker;

    /// <summary>Creates a client of the broker named by <paramref name="options"/> or <c>ACCEL_BROKER</c>.</summary>
    /// <param name="options">Broker, timeouts and interceptors; <see langword="null"/> for the defaults.</param>
    /// <exception cref="InvalidOperationException">No broker is given and <c>ACCEL_BROKER</c> is not set.</exception>
    public FleetClient(FleetClientOptions? options = null)
    {
        _options = options ?? new FleetClientOptions();
        // One private CA usually signs the broker and its agents: the broker's trust applies to agents unless they have their own.
        _agents = _options.Agents.CaFile is null && _options.CaFile is not null ? _options.Agents with { CaFile = _options.CaFile } : _options.Agents;
        Broker = _options.Broker ?? Environment.GetEnvironmentVariable(AcceleratorSessionOptions.BrokerVariable)
            ?? throw new InvalidOperationException($"no broker given: set {nameof(FleetClientOptions.Broker)} or the {AcceleratorSessionOptions.BrokerVariable} environment variable");
        // Operator calls are few: a channel of its own, closed on dispose, rather than the process's pooled ones.
        _channel = AgentChannels.Create(Broker, _options.ConnectTimeout, _options.CaFile);
        string? apiKey = _options.ApiKey ?? Environment.GetEnvironmentVariable(AcceleratorSessionOptions.ApiKeyVariable);
        _broker = new Protocol.V1.Broker.BrokerClient(_channel.CreateCallInvoker().Intercept(BearerCredential.Around(_options.Interceptors, apiKey)));
    }

    /// <summary>The broker's URL.</summary>
    public string Broker { get; }

    /// <summary>Lists the slice types the broker offers, in catalogue order.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Name, memory, compute share, price and TFLOPS of each type.</returns>
    public async Task<IReadOnlyList<SliceType>> ListSliceTypesAsync(CancellationToken cancellationToken = default) =>
        (await _broker.ListSliceTypesAsync(new ListSliceTypesRequest(), deadline: Deadline(), cancellationToken: cancellationToken)).SliceTypes;

    /// <summary>Gets the prices the broker costs usage with: instance types and slice types, $/hour.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The broker's prices; apply an operator's file on top with <see cref="PriceCatalog.Load"/>.</returns>
    public async Task<PriceCatalog> GetPricesAsync(CancellationToken cancellationToken = default) =>
        PriceCatalog.FromProto(await _broker.ListPricesAsync(new ListPricesRequest(), deadline: Deadline(), cancellationToken: cancellationToken));

    /// <summary>Places a slice of <paramref name="sliceType"/> for <paramref name="host"/> under the host's next free ordinal.</summary>
    /// <param name="host">The client host, e.g. <c>app-1</c>.</param>
    /// <param name="sliceType">A slice type of the catalogue, e.g. <c>eia2.medium</c>.</param>
    /// <param name="hostType">The host's instance type (e.g. <c>c5.large</c>), which usage is priced with; <see langword="null"/> when unknown.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The attached accelerator: ordinal, id, agent and device.</returns>
    /// <exception cref="RpcException">InvalidArgument for an unknown slice type; ResourceExhausted when no healthy agent has room.</exception>
    public async Task<Accelerator> AttachAsync(string host, string sliceType, string? hostType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(sliceType);
        AttachResponse response = await _broker.AttachAsync(
            new AttachRequest { Host = host, SliceType = sliceType, HostType = hostType ?? "" }, deadline: Deadline(), cancellationToken: cancellationToken);
        return response.Accelerator;
    }

    /// <summary>
    /// Attaches as <see cref="AttachAsync(string, string, string?, CancellationToken)"/> does and returns the broker's whole answer,
    /// including the host's credential (<see cref="AttachResponse.HostCredential"/>) when this attach created it: the host's first,
    /// or one with <see cref="AttachRequest.NewHostCredential"/> set, which revokes the old credential.
    /// </summary>
    /// <param name="request">
    /// Host, slice type, host type, whether to issue a new host credential, and the models the accelerator may load
    /// (<see cref="AttachRequest.Allowlist"/>: hex SHA-256 of each model file; absent for any model).
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The accelerator and, when issued now, the host credential, shown this once.</returns>
    /// <exception cref="RpcException">
    /// As the other overload; InvalidArgument for an allowlist entry that is not a SHA-256; PermissionDenied without the operator role.
    /// </exception>
    public async Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await _broker.AttachAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Pins the host's accelerator at <paramref name="ordinal"/> to the models with these content hashes, or lifts the pin.
    /// Its agent is told at once: a load of any other bytes through the slice is then refused with PermissionDenied before
    /// the bytes are read, and a model loaded before that the new list does not hold is unloaded (its runs are then
    /// NotFound). Set an allowlist at attach time with <see cref="AttachRequest.Allowlist"/>.
    /// </summary>
    /// <param name="host">The client host.</param>
    /// <param name="ordinal">The accelerator's ordinal on it.</param>
    /// <param name="sha256s">
    /// Lower- or upper-case hex SHA-256 of each model file's bytes (at most 1024; duplicates count once); empty allows no
    /// model at all; <see langword="null"/> clears the allowlist, so any model may be loaded.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The accelerator with its new allowlist (<see cref="Accelerator.Allowlist"/>, <see langword="null"/> when cleared).</returns>
    /// <exception cref="RpcException">
    /// InvalidArgument naming an entry that is not a SHA-256, or too many; NotFound for an unknown ordinal; PermissionDenied
    /// without the operator role. Nothing changes when the call fails.
    /// </exception>
    public async Task<Accelerator> SetAllowedModelsAsync(string host, int ordinal, IReadOnlyCollection<string>? sha256s, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var request = new SetAllowedModelsRequest { Host = host, Ordinal = ordinal };
        if (sha256s is not null)
        {
            request.Allowlist = new ModelAllowlist();
            request.Allowlist.Sha256.AddRange(sha256s);
        }

        return (await _broker.SetAllowedModelsAsync(request, deadline: Deadline(), cancellationToken: cancellationToken)).Accelerator;
    }

    /// <summary>Creates an operator API key (admin role needed).</summary>
    /// <param name="name">Who or what will hold it.</param>
    /// <param name="role">Viewer, operator or admin.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The key's description and its secret, shown this once: the broker keeps only a hash.</returns>
    /// <exception cref="RpcException">PermissionDenied without the admin role; InvalidArgument for an empty name or a host role.</exception>
    public async Task<CreateApiKeyResponse> CreateApiKeyAsync(string name, ApiKeyRole role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return await _broker.CreateApiKeyAsync(new CreateApiKeyRequest { Name = name, Role = role }, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>Lists API keys and host credentials, without their secrets (admin role needed).</summary>
    /// <param name="includeRevoked">Include revoked keys.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Id, name, role, host, creation and revocation of each key, oldest first.</returns>
    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(bool includeRevoked = false, CancellationToken cancellationToken = default) =>
        (await _broker.ListApiKeysAsync(new ListApiKeysRequest { IncludeRevoked = includeRevoked }, deadline: Deadline(), cancellationToken: cancellationToken)).Keys;

    /// <summary>Revokes an API key or host credential by id; it stops working at once (admin role needed).</summary>
    /// <param name="id">The key's public id, as <see cref="ListApiKeysAsync"/> shows it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The revoked key.</returns>
    /// <exception cref="RpcException">NotFound for an unknown id.</exception>
    public async Task<ApiKeyInfo> RevokeApiKeyAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return (await _broker.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = id }, deadline: Deadline(), cancellationToken: cancellationToken)).Key;
    }

    /// <summary>Detaches the host's accelerator at <paramref name="ordinal"/>, freeing its slice; its usage is forgotten.</summary>
    /// <param name="host">The client host.</param>
    /// <param name="ordinal">The accelerator's ordinal on it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The accelerator as it was attached.</returns>
    /// <exception cref="RpcException">NotFound for an unknown ordinal, naming the host's.</exception>
    public async Task<Accelerator> DetachAsync(string host, int ordinal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        DetachResponse response = await _broker.DetachAsync(new DetachRequest { Host = host, Ordinal = ordinal }, deadline: Deadline(), cancellationToken: cancellationToken);
        return response.Accelerator;
    }

    /// <summary>Describes the accelerators attached to <paramref name="host"/>, with memory charged as of each agent's last heartbeat.</summary>
    /// <param name="host">The client host.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The broker's answer: the host, its accelerators in ordinal order, and the broker's time.</returns>
    public async Task<DescribeAcceleratorsResponse> DescribeAcceleratorsAsync(string host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        return await _broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = host }, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>Describes the agents the broker knows: health, device, capacity, what is allocated and their slices.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every agent.</returns>
    public async Task<IReadOnlyList<AgentDescription>> DescribeAgentsAsync(CancellationToken cancellationToken = default) =>
        (await _broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: Deadline(), cancellationToken: cancellationToken)).Agents;

    /// <summary>Creates an enrolment token for a new agent; the broker keeps only its hash, so this is the one chance to read it.</summary>
    /// <param name="name">Name of the agent the token is for (shown in listings and the broker's audit log).</param>
    /// <param name="lifetime">How long the token may be used; <see langword="null"/> means one hour (at most 30 days).</param>
    /// <param name="reusable">Whether it enrols any number of agents until it expires, rather than exactly one.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The token (<c>abe_...</c>), its public id and its expiry. Treat the token as a secret.</returns>
    /// <exception cref="RpcException">InvalidArgument for an empty name or a lifetime out of range.</exception>
    public async Task<CreateEnrollmentResponse> CreateEnrollmentAsync(string name, TimeSpan? lifetime = null, bool reusable = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = new CreateEnrollmentRequest { Name = name, Reusable = reusable };
        if (lifetime is { } ttl)
        {
            request.Ttl = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(ttl);
        }

        return await _broker.CreateEnrollmentAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>Lists the enrolled agents: id, name, when enrolled, last seen and whether revoked.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every enrolled agent, oldest first.</returns>
    public async Task<IReadOnlyList<EnrolledAgent>> ListEnrolledAgentsAsync(CancellationToken cancellationToken = default) =>
        (await _broker.ListEnrolledAgentsAsync(new ListEnrolledAgentsRequest(), deadline: Deadline(), cancellationToken: cancellationToken)).Agents;

    /// <summary>Revokes an enrolled agent at once: its next registration or heartbeat is refused and it gets no new slice.</summary>
    /// <param name="agentId">The agent's id (see <see cref="ListEnrolledAgentsAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The revoked agent and what became of its slices.</returns>
    /// <exception cref="RpcException">NotFound when no enrolled agent has this id.</exception>
    public async Task<RevokeAgentResponse> RevokeAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        return await _broker.RevokeAgentAsync(new RevokeAgentRequest { AgentId = agentId }, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Cordons an agent (no new slices are placed on it) and moves its slices to other agents one at a time while it still
    /// serves; sessions follow their accelerator to its new agent by themselves. Needs the operator role.
    /// </summary>
    /// <param name="agentId">The agent's id (see <see cref="DescribeAgentsAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the call (slices moved so far stay moved; the agent stays cordoned).</param>
    /// <returns>The drained agent, how many slices moved, and the slices that found no room (still on the agent).</returns>
    /// <exception cref="RpcException">NotFound when no agent has this id.</exception>
    public async Task<DrainAgentResponse> DrainAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        return await _broker.DrainAgentAsync(new DrainAgentRequest { AgentId = agentId }, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>Lifts a drain's cordon, so the agent takes new slices again. Needs the operator role.</summary>
    /// <param name="agentId">The agent's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The agent.</returns>
    /// <exception cref="RpcException">NotFound when no agent has this id.</exception>
    public async Task<AgentDescription> UncordonAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        return (await _broker.UncordonAgentAsync(new UncordonAgentRequest { AgentId = agentId }, deadline: Deadline(), cancellationToken: cancellationToken)).Agent;
    }

    /// <summary>Resolves the host's accelerator at <paramref name="ordinal"/> (EI's <c>eia:N</c>) to its slice and agent.</summary>
    /// <param name="host">The client host.</param>
    /// <param name="ordinal">The accelerator's ordinal on it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The accelerator.</returns>
    /// <exception cref="RpcException">NotFound for an unknown ordinal, naming the host's.</exception>
    public async Task<Accelerator> ResolveAcceleratorAsync(string host, int ordinal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ResolveAcceleratorResponse response = await _broker.ResolveAcceleratorAsync(
            new ResolveAcceleratorRequest { Host = host, Ordinal = ordinal }, deadline: Deadline(), cancellationToken: cancellationToken);
        return response.Accelerator;
    }

    /// <summary>
    /// Gets what the host's accelerators did since they were attached: runs, failures, latency as clients and the agent
    /// measured it, and cost per 100,000 inferences at the broker's prices.
    /// </summary>
    /// <param name="host">The client host.</param>
    /// <param name="ordinal">Only the accelerator at this ordinal; <see langword="null"/> for all of the host's.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The broker's answer.</returns>
    /// <exception cref="RpcException">NotFound for an unknown ordinal, naming the host's.</exception>
    public async Task<GetUsageResponse> GetUsageAsync(string host, int? ordinal = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var request = new GetUsageRequest { Host = host };
        if (ordinal is { } n)
        {
            request.Ordinal = n;
        }

        return await _broker.GetUsageAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>Resolves the host's accelerator at <paramref name="ordinal"/> and returns a client of its slice on its agent.</summary>
    /// <param name="host">The client host.</param>
    /// <param name="ordinal">The accelerator's ordinal on it.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The slice, reached with <see cref="FleetClientOptions.Agents"/>.</returns>
    /// <exception cref="RpcException">NotFound for an unknown ordinal, naming the host's.</exception>
    public async Task<SliceClient> OpenSliceAsync(string host, int ordinal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ResolveAcceleratorResponse response = await _broker.ResolveAcceleratorAsync(
            new ResolveAcceleratorRequest { Host = host, Ordinal = ordinal }, deadline: Deadline(), cancellationToken: cancellationToken);
        return new SliceClient(response.Accelerator, _agents with { AccessToken = response.SliceToken });
    }

    /// <summary>
    /// Asks the broker for an operator token for one agent (operator role): it reaches the agent's model store, its
    /// information and <see cref="AgentClient.BenchmarkLocalAsync"/>, not its slices' models.
    /// </summary>
    /// <param name="agentId">The agent's id, as <see cref="DescribeAgentsAsync"/> lists it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The token (a secret until it expires), its expiry and the agent's address.</returns>
    /// <exception cref="RpcException">NotFound for an unknown agent; PermissionDenied below the operator role.</exception>
    public async Task<IssueAgentTokenResponse> IssueAgentTokenAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        return await _broker.IssueAgentTokenAsync(new IssueAgentTokenRequest { AgentId = agentId }, deadline: Deadline(), cancellationToken: cancellationToken);
    }

    /// <summary>A client of one agent with an operator token from <see cref="IssueAgentTokenAsync"/>, reached with <see cref="FleetClientOptions.Agents"/>.</summary>
    /// <param name="agentId">The agent's id, as <see cref="DescribeAgentsAsync"/> lists it.</param>
    /// <param name="cancellationToken">Cancels the call to the broker.</param>
    /// <returns>A client of the agent.</returns>
    /// <exception cref="RpcException">NotFound for an unknown agent; PermissionDenied below the operator role.</exception>
    public async Task<AgentClient> OpenAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        IssueAgentTokenResponse issued = await IssueAgentTokenAsync(agentId, cancellationToken);
        return new AgentClient(issued.AgentAddress, _agents with { AccessToken = issued.Token });
    }

    /// <summary>
    /// A client of the agent at <paramref name="address"/> (as <see cref="DescribeAgentsAsync"/> lists it), reached with
    /// <see cref="FleetClientOptions.Agents"/> and its <see cref="AgentClientOptions.AccessToken"/>; agents refuse calls
    /// without a token, so <see cref="OpenAgentAsync"/> is usually what is wanted.
    /// </summary>
    /// <param name="address">The agent's gRPC address.</param>
    /// <returns>A client; nothing is called yet.</returns>
    public AgentClient Agent(string address) => new(address, _agents);

    /// <summary>Closes the channel to the broker; agent channels are pooled for the process and stay open.</summary>
    public void Dispose() => _channel.Dispose();

    private DateTime Deadline() => DateTime.UtcNow + _options.CallTimeout;
}
