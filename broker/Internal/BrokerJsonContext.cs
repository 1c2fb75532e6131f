using System.Text.Json.Serialization;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;

namespace AccelBroker.Broker.Internal;

/// <summary>Source-generated JSON for the catalogue, the attachment file, the usage file, the signing keys and the JSON columns of broker.db (snake_case, comments and trailing commas allowed).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(CatalogDocument))]
[JsonSerializable(typeof(AttachmentsDocument))]
[JsonSerializable(typeof(UsageDocument))]
[JsonSerializable(typeof(ApiKeysDocument))]
[JsonSerializable(typeof(EnrollmentTokensDocument))]
[JsonSerializable(typeof(AgentCredentialsDocument))]
[JsonSerializable(typeof(SigningKeysDocument))]
[JsonSerializable(typeof(AcceleratorUsageRecord))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class BrokerJsonContext : JsonSerializerContext
{
}
