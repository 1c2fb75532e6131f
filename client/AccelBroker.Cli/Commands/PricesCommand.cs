using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel prices</c>: the prices cost reports use, as the broker serves them with an optional file on top.</summary>
internal static class PricesCommand
{
    public static Command Create()
    {
        Option<bool> json = CommonOptions.Json();
        Option<string?> prices = CommonOptions.Prices();
        var command = new Command("prices", "List instance and slice prices ($/hour) used for cost per inference") { prices, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    instance_types = catalog.InstanceTypes.Select(t => new { name = t.Name, kind = t.Kind, vcpus = t.VCpus, gpu = t.Gpu, price_per_hour = t.PricePerHour }),
                    slice_types = catalog.SliceTypes.Select(t => new { name = t.Name, price_per_hour = t.PricePerHour }),
                });
                return 0;
            }

            var instances = new Table().AddColumns("instance type", "kind", "vCPUs", "GPU", "$/hour");
            foreach (InstancePrice t in catalog.InstanceTypes)
            {
                instances.AddRow(t.Name, t.Kind, t.VCpus == 0 ? "" : t.VCpus.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(t.Gpu ?? ""), Formatting.Price(t.PricePerHour));
            }

            var slices = new Table().AddColumns("slice type", "$/hour");
            foreach (SlicePrice t in catalog.SliceTypes)
            {
                slices.AddRow(t.Name, Formatting.Price(t.PricePerHour));
            }

            AnsiConsole.Write(instances);
            AnsiConsole.Write(slices);
            return 0;
        });
        return command;
    }
}
