using AccelBroker.Agent.Devices;

namespace AccelBroker.Agent.Health;

/// <summary>One test that the agent's device computes; throws when it does not.</summary>
internal interface IDeviceCheck
{
    void Run(ComputeDevice device);
}
