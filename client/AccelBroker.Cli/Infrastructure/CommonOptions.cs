using System.CommandLine;
using AccelBroker.Client;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>Options shared by several verbs.</summary>
internal static class CommonOptions
{
    public static Option<string?> Broker { get; } = new("--broker")
    {
        Description = $"Broker URL (default: ${AcceleratorSessionOptions.BrokerVariable})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AcceleratorSessionOptions.BrokerVariable),
    };

    public static Option<string?> CaFile { get; } = new("--ca-file")
    {
        Description = "PEM CA certificates that https broker and agent certificates must chain to (default: the system store)",
        Recursive = true,
    };

    public static Option<string?> ApiKeyFile { get; } = new("--api-key-file")
    {
        Description = $"File holding the operator API key (default: ${AcceleratorSessionOptions.ApiKeyVariable})",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON instead of a table" };

    /// <summary><c>--check-accuracy</c> of bench, sweep and compare.</summary>
    public static Option<bool> CheckAccuracy() =>
        new("--check-accuracy") { Description = "Also run the fp32 model on the same inputs and report each output's cosine similarity and max absolute difference" };

    public static Option<string> Host() => new("--host")
    {
        Description = "Client host the accelerators are attached to",
        Required = true,
    };

    public static Option<int> Ordinal() => new("--ordinal")
    {
        Description = "Accelerator ordinal on the host (0 for eia:0)",
        Required = true,
    };

    /// <summary><c>--precision fp32|fp16|bf16</c>, default fp32; read it with <see cref="PrecisionOf"/>.</summary>
    public static Option<string> Precision()
    {
        Option<string> precision = new("--precision") { Description = "Precision the model executes in (floating weights and inputs are cast)", DefaultValueFactory = _ => "fp32" };
        precision.AcceptOnlyFromAmong("fp32", "fp16", "bf16");
        return precision;
    }

    public static ModelPrecision PrecisionOf(string value) => value switch
    {
        "fp16" => ModelPrecision.Fp16,
        "bf16" => ModelPrecision.Bf16,
        _ => ModelPrecision.Fp32,
    };

    public static Option<string?> Prices() => new("--prices")
    {
        Description = "Prices file (JSON) applied on top of the broker's prices",
    };

    /// <summary>A client of the broker given with <c>--broker</c> or <c>ACCEL_BROKER</c>, for one verb.</summary>
    public static FleetClient OpenFleet(ParseResult parse) => new(FleetOptions(parse));

    /// <summary>Broker, CA file and API key as the command line gives them.</summary>
    public static FleetClientOptions FleetOptions(ParseResult parse) =>
        new() { Broker = RequireBroker(parse), CaFile = parse.GetValue(CaFile), ApiKey = ApiKey(parse) };

    /// <summary>The API key from <c>--api-key-file</c>, else <c>ACCEL_API_KEY</c>; <see langword="null"/> when neither is given.</summary>
    public static string? ApiKey(ParseResult parse)
    {
        if (parse.GetValue(ApiKeyFile) is not { Length: > 0 } file)
        {
            return Environment.GetEnvironmentVariable(AcceleratorSessionOptions.ApiKeyVariable) is { Length: > 0 } key ? key.Trim() : null;
        }

        try
        {
            return File.ReadAllText(file).Trim() is { Length: > 0 } fromFile
                ? fromFile
                : throw new CliException($"--api-key-file '{file}' is empty");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--api-key-file '{file}' cannot be read: {ex.Message}");
        }
    }

    public static string RequireBroker(ParseResult parse) =>
        parse.GetValue(Broker) is { Length: > 0 } broker
            ? broker
            : throw new CliException($"no broker given: pass --broker URL or set {AcceleratorSessionOptions.BrokerVariable}");
}
