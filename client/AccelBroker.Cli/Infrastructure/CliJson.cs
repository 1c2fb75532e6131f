using System.Text.Json;

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
}
