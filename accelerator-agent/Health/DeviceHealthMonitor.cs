using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Health;

/// <summary>
/// Runs <see cref="IDeviceCheck"/> at start and then every <see cref="AgentOptions.DeviceCheckInterval"/>, off the
/// request path, and keeps the last answer for readiness; a change of answer is logged once.
/// </summary>
internal sealed class DeviceHealthMonitor : BackgroundService
{
    private readonly IDeviceCheck _check;
    private readonly ComputeDevice _device;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<DeviceHealthMonitor> _logger;
    private volatile string? _failure = "the device has not been checked yet";
    private readonly Lock _gate = new();
    private bool _checked;

    public DeviceHealthMonitor(IDeviceCheck check, ComputeDevice device, AgentOptions options, TimeProvider time, ILogger<DeviceHealthMonitor> logger)
    {
        _check = check;
        _device = device;
        _interval = options.DeviceCheckInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>Why the device is not usable; <see langword="null"/> when its last check passed.</summary>
    public string? Failure => _failure;

    public string Label => _device.Label;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: a CUDA op may take a while the first time.
        await Task.Yield();
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            CheckOnce();
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    internal void CheckOnce()
    {
        string? failure;
        try
        {
            _check.Run(_device);
            failure = null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = $"device {_device.Label} failed its check: {ex.Message}";
        }

        lock (_gate)
        {
            string? before = _failure;
            _failure = failure;
            if (_checked && before == failure)
            {
                return;
            }

            _checked = true;
        }

        if (failure is null)
        {
            AgentLog.DeviceHealthy(_logger, _device.Label);
        }
        else
        {
            AgentLog.DeviceUnhealthy(_logger, _device.Label, failure);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
