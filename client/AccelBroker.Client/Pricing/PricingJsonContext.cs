using System.Text.Json.Serialization;

namespace AccelBroker.Client.Pricing;

/// <summary>Source-generated JSON for prices files: snake_case, comments and trailing commas allowed, as the broker's other files.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PriceDocument))]
internal sealed partial class PricingJsonContext : JsonSerializerContext
{
}
