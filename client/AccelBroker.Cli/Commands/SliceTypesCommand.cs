using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel slice-types</c>: the catalogue of accelerator slice types.</summary>
internal static class SliceTypesCommand
{
    public static Command Create()
    {
        Option<bool> json = CommonOptions.Json();
        var command = new Command("slice-types", "List the accelerator slice types the broker offers") { json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            IReadOnlyList<SliceType> sliceTypes = await fleet.ListSliceTypesAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    slice_types = sliceTypes.Select(t => new
                    {
                        name = t.Name,
                        memory_mib = t.MemoryBytes / Formatting.MiB,
                        compute_share = t.ComputeShare,
                        price_per_hour = t.PricePerHour,
                        fp32_tflops = t.Fp32Tflops,
                        fp16_tflops = t.Fp16Tflops,
                    }),
                });
                return 0;
            }

            var table = new Table().AddColumns("type", "memory MiB", "compute share", "FP32 TFLOPS", "FP16 TFLOPS", "$/hour");
            foreach (SliceType t in sliceTypes)
            {
                table.AddRow(t.Name, Formatting.Mib(t.MemoryBytes), Formatting.Share(t.ComputeShare), Formatting.Share(t.Fp32Tflops), Formatting.Share(t.Fp16Tflops), Formatting.Price(t.PricePerHour));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
