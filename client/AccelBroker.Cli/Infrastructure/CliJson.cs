using System.Text.Json;
using System.Text.Json.Nodes;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>JSON output for machines: snake_case, as EI's describe-accelerators printed it.</summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static void Print<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary><paramref name="value"/> as a JSON object, for output that adds fields to a shared shape.</summary>
    public static JsonObject ToObject<T>(T value) => JsonSerializer.SerializeToNode(value, Options)!.AsObject();
}
