using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel run</c>: uploads a model (unless held), runs it once on .npy inputs and writes .npy outputs.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        Option<FileInfo[]> inputs = new("--input") { Description = "Input tensor as .npy, in argument order (repeat for more)", AllowMultipleArgumentsPerToken = false };
        Option<DirectoryInfo> outputDir = new("--output-dir") { Description = "Where output_0.npy, output_1.npy, … are written", Required = true };
        Option<string> precision = CommonOptions.Precision();
        var command = new Command("run", "Run a TorchScript model once on a host's accelerator") { model, host, ordinal, inputs, outputDir, precision };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var options = new AcceleratorSessionOptions
            {
                Broker = CommonOptions.RequireBroker(parse),
                Host = parse.GetValue(host),
                Ordinal = parse.GetValue(ordinal),
                CaFile = parse.GetValue(CommonOptions.CaFile),
                // An operator's key when given; otherwise the session falls back to the host's ACCEL_HOST_CREDENTIAL.
                HostCredential = CommonOptions.ApiKey(parse),
            };
            Tensor[] tensors = (parse.GetValue(inputs) ?? []).Select(f => Npy.Read(f.FullName)).ToArray();
            using AcceleratorSession session = await AcceleratorSession.OpenAsync(options, cancellationToken);
            RemoteModel remote = await session.LoadModelAsync(
                parse.GetValue(model)!.FullName,
                new ModelLoadOptions { Precision = CommonOptions.PrecisionOf(parse.GetValue(precision)!) },
                cancellationToken);
            ModelOutput output = await session.RunAsync(remote, tensors, cancellationToken);

            DirectoryInfo directory = parse.GetValue(outputDir)!;
            directory.Create();
            for (int i = 0; i < output.Count; i++)
            {
                string path = Path.Combine(directory.FullName, $"output_{i}.npy");
                Npy.Write(path, output[i]);
                Console.Out.WriteLine($"{path}: {output[i]}");
            }

            Console.Out.WriteLine($"{output.Kind.ToString().ToLowerInvariant()} of {output.Count} tensor(s) from {remote.ModelId} on {output.Device} ({session.Accelerator.Id}, {(remote.Uploaded ? "uploaded" : "already held")}); compute {output.Timing.Compute.TotalMilliseconds:0.###} ms");
            return 0;
        });
        return command;
    }
}
