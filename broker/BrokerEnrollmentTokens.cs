using AccelBroker.Broker.Enrollment;
using Microsoft.Extensions.DependencyInjection;

namespace AccelBroker.Broker;

/// <summary>Creates enrolment tokens in-process, for hosts that start a broker and its agents together (loopback fleets, tests).</summary>
public static class BrokerEnrollmentTokens
{
    /// <summary>
    /// Creates an enrolment token (<c>abe_...</c>) for an agent named <paramref name="agentName"/>, as <c>CreateEnrollment</c> would.
    /// The token is returned once; keep it out of logs.
    /// </summary>
    /// <param name="brokerServices">The broker's services (<c>app.Services</c> of a host built by <see cref="BrokerHost.Build"/>).</param>
    /// <param name="agentName">Name of the agent the token is for.</param>
    /// <param name="lifetime">How long the token may be used; <see langword="null"/> means one hour.</param>
    /// <param name="reusable">Whether it enrols any number of agents until it expires.</param>
    public static string Create(IServiceProvider brokerServices, string agentName, TimeSpan? lifetime = null, bool reusable = false)
    {
        ArgumentNullException.ThrowIfNull(brokerServices);
        return brokerServices.GetRequiredService<AgentEnrollment>().Create(agentName, lifetime, reusable).Token;
    }
}
