using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Security;

/// <summary>
/// At start-up, when no live admin key exists: with <see cref="BrokerOptions.AdminKeyFile"/>, creates one and writes it
/// there (0600), or prints it once to standard output for <c>-</c>; without it, warns that keys cannot be managed.
/// The key goes to the file or the terminal, never to the log.
/// </summary>
internal sealed class AdminKeyBootstrap(BrokerOptions options, ApiKeyBook keys, ILogger<AdminKeyBootstrap> logger) : IHostedService
{
    public const string KeyName = "admin";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (keys.HasLiveAdmin)
        {
            return Task.CompletedTask;
        }

        if (options.AdminKeyFile is not { } file)
        {
            SecurityLog.NoAdminKey(logger);
            return Task.CompletedTask;
        }

        (ApiKeyRecord key, string secret) = keys.Create(KeyName, AccessRole.Admin, createdBy: null);
        if (file == "-")
        {
            Console.Out.WriteLine($"admin API key (shown once; keep it secret): {secret}");
            SecurityLog.AdminKeyCreated(logger, key.Name, key.Id, "standard output");
            return Task.CompletedTask;
        }

        try
        {
            PrivateFile.WriteAllText(file, secret + "\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A key nobody can read is useless: take it back, and say why the broker cannot start as asked.
            keys.Revoke(key.Id);
            throw new BrokerConfigurationException($"--admin-key-file '{file}' cannot be written: {ex.Message}", ex);
        }

        SecurityLog.AdminKeyCreated(logger, key.Name, key.Id, Path.GetFullPath(file));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
