namespace AccelBroker.Agent.Services;

/// <summary>
/// What <c>accelbroker.v1.InferenceAgent</c> is mapped as. Not the generated service base: grpc-dotnet would bind
/// that with the generated marshallers. <see cref="InferenceEndpointMethods"/> binds <see cref="InferenceAgentService"/>'s
/// methods here instead, with pooled marshallers on the calls that carry tensors.
/// </summary>
internal sealed class InferenceEndpoint;
