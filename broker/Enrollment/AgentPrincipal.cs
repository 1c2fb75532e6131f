namespace AccelBroker.Broker.Enrollment;

/// <summary>Who an agent-side call comes from: an enrolled agent, or (for EnrollAgent) the holder of an enrolment token.</summary>
/// <param name="AgentId">The enrolled agent's id; empty for an enrolment call.</param>
/// <param name="Name">The agent's name.</param>
/// <param name="CredentialId">The public id of the credential or enrolment token used.</param>
internal sealed record AgentPrincipal(string AgentId, string Name, string CredentialId);
