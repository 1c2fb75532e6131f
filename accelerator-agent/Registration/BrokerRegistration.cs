using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Security;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Startup;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Registration;

/// <summary>
/// Registers with the broker once the server listens, then heartbeats and keeps slices in step. A clean stop sends
/// one last heartbeat, so the broker has the usage of every run up to the stop.
/// </summary>
internal sealed class BrokerRegistration : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // A refused credential will not fix itself soon (revoked, or an operator must enrol the agent again), so
    // retries back off up to this instead of hammering the broker.
    private static readonly TimeSpan MaxRefusedDelay = TimeSpan.FromMinutes(1);

    // The last heartbeat must not hold up a stop for long when the broker is gone too.
    private static readonly TimeSpan LastHeartbeatLimit = TimeSpan.FromSeconds(2);
    private readonly AgentOptions _options;
    private readonly AgentIdentity _identity;
    private readonly SliceRegistry _slices;
    private readonly ServerReady _ready;
    private readonly TimeProvider _time;
    private readonly ILogger<BrokerRegistration> _logger;
    private readonly AgentCredential _credential;
    private readonly BrokerTokenKeys _tokenKeys;
    private readonly ClientCertificate _clientCertificate;
    private readonly BrokerLease _lease;
    private readonly RegistrationState _state;

    public BrokerRegistration(
        AgentOptions options, AgentIdentity identity, SliceRegistry slices, ServerReady ready, AgentCredential credential, BrokerTokenKeys tokenKeys,
        ClientCertificate clientCertificate, BrokerLease lease, RegistrationState state, TimeProvider time, ILogger<BrokerRegistration> logger)
    {
        _lease = lease;
        _state = state;
        _clientCertificate = clientCertificate;
        _credential = credential;
        _options = options;
        _identity = identity;
        _slices = slices;
        _tokenKeys = tokenKeys;
        _ready = ready;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.BrokerAddress is null)
        {
            return;
        }

        await _ready.WhenReady.WaitAsync(stoppingToken);
        using GrpcChannel channel = ServerTrust.Channel(_options.BrokerAddress, _options.CaFile, _clientCertificate);
        var broker = new Protocol.V1.Broker.BrokerClient(channel);
        TimeSpan interval = await RegisterAsync(broker, stoppingToken);
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    long mark = _slices.ReconcileMark();
                    HeartbeatResponse response = await broker.HeartbeatAsync(Heartbeat(), _credential.Headers, deadline: _time.GetUtcNow().UtcDateTime + interval, cancellationToken: stoppingToken);
                    _tokenKeys.Accept(response.TokenKeys);
                    _slices.Reconcile(response.Slices, mark);
                    _lease.Confirmed();
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.Unauthenticated or StatusCode.PermissionDenied)
                {
                    // NotFound: the broker forgot us (restarted without state), so register again under the same id.
                    // Unauthenticated/PermissionDenied: the credential was refused; registering logs it and backs off.
                    await RegisterAsync(broker, stoppingToken);
                }
                catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
                {
                    AgentLog.BrokerUnreachable(_logger, _options.BrokerAddress, ex.Status.Detail);
                    Unanswered();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stoppingToken.IsCancellationRequested)
        {
        }

        // Runs since the last heartbeat would otherwise be missing from the agent's figures for good: a restarted
        // agent counts from zero. Its slice list is not reconciled: the agent is going.
        try
        {
            TimeSpan limit = interval < LastHeartbeatLimit ? interval : LastHeartbeatLimit;
            await broker.HeartbeatAsync(Heartbeat(), _credential.Headers, deadline: _time.GetUtcNow().UtcDateTime + limit, cancellationToken: CancellationToken.None);
        }
        catch (RpcException ex)
        {
            AgentLog.BrokerUnreachable(_logger, _options.BrokerAddress, ex.Status.Detail);
        }
    }

    private void Unanswered()
    {
        if (_lease.Unanswered())
        {
            AgentLog.Fenced(_logger, _options.BrokerAddress!, _lease.FenceAfter);
        }
    }

    private HeartbeatRequest Heartbeat()
    {
        var request = new HeartbeatRequest { AgentId = _identity.AgentId };
        IReadOnlyCollection<AcceleratorSlice> held = _slices.All;
        request.Slices.AddRange(held.Select(s => s.StateToProto()));
        request.Usage.AddRange(held.Select(s => s.Usage.ToProto()));
        return request;
    }

    private async Task<TimeSpan> RegisterAsync(Protocol.V1.Broker.BrokerClient broker, CancellationToken stoppingToken)
    {
        TimeSpan refusedDelay = RetryDelay;
        while (true)
        {
            try
            {
                await _credential.EnsureAsync(broker, _options.BrokerAddress!, _time.GetUtcNow().UtcDateTime.AddSeconds(10), stoppingToken);
                var request = new RegisterAgentRequest
                {
                    AgentId = _identity.AgentId,
                    Address = _identity.Address,
                    Device = _identity.DeviceInfo,
                    Capacity = _identity.Capacity,
                    InstanceType = _identity.InstanceType,
                    Version = AgentIdentity.Version,
                    MetricsAddress = _identity.MetricsAddress,
                };
                long mark = _slices.ReconcileMark();
                RegisterAgentResponse response = await broker.RegisterAgentAsync(request, _credential.Headers, deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: stoppingToken);
                _identity.Remember(response.AgentId);
                _tokenKeys.Accept(response.TokenKeys);
                _slices.Reconcile(response.Slices, mark);
                TimeSpan interval = response.HeartbeatInterval?.ToTimeSpan() ?? TimeSpan.Zero;
                interval = interval > TimeSpan.Zero ? interval : TimeSpan.FromSeconds(2);
                TimeSpan fenceAfter = response.FenceAfter?.ToTimeSpan() ?? TimeSpan.Zero;
                _lease.Confirmed(fenceAfter > TimeSpan.Zero ? fenceAfter : interval * 3);
                AgentLog.Registered(_logger, _options.BrokerAddress!, response.AgentId);
                _state.Registered(_options.BrokerAddress!, response.AgentId);
                return interval;
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested && ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                AgentLog.CredentialRefused(_logger, _options.BrokerAddress!, ex.StatusCode.ToString(), ex.Status.Detail, refusedDelay);
                // A refused credential needs an operator: not ready until registered again.
                _state.Failed($"broker {_options.BrokerAddress} refused this agent's credential ({ex.StatusCode}); enrol it again", keepsRegistration: false);
                await Task.Delay(refusedDelay, _time, stoppingToken);
                refusedDelay = refusedDelay * 2 < MaxRefusedDelay ? refusedDelay * 2 : MaxRefusedDelay;
            }
            catch (RpcException ex) when (!stoppingToken.IsCancellationRequested && ex.StatusCode != StatusCode.InvalidArgument)
            {
                AgentLog.BrokerUnreachable(_logger, _options.BrokerAddress!, ex.Status.Detail);
                Unanswered();
                // Only the status code: the server's detail is not ours to repeat. A broker that restarts does not
                // stop the data path, so an agent registered before stays ready.
                _state.Failed($"not registered with broker {_options.BrokerAddress}: it is unreachable ({ex.StatusCode})", keepsRegistration: true);
                await Task.Delay(RetryDelay, _time, stoppingToken);
            }
        }
    }
}
