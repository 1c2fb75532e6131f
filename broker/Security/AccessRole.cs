using System.Text.Json.Serialization;

namespace AccelBroker.Broker.Security;

/// <summary>
/// What a credential may do. The operator roles nest (admin ⊇ operator ⊇ viewer); <see cref="Host"/> stands apart:
/// a host credential acts only on its own host.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<AccessRole>))]
internal enum AccessRole
{
    /// <summary>Describe, usage, prices, slice types.</summary>
    Viewer = 1,

    /// <summary>Also attach, detach, resolve any host, benchmarks.</summary>
    Operator = 2,

    /// <summary>Also manage API keys and agent enrolment.</summary>
    Admin = 3,

    /// <summary>A client host's credential: resolve, describe and report usage for that host.</summary>
    Host = 4,
}
