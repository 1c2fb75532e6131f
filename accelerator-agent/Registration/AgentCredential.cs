using AccelBroker.Agent.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Registration;

/// <summary>
/// This agent's broker credential: read from <see cref="AgentOptions.CredentialFile"/>, or obtained once by
/// enrolling with <see cref="AgentOptions.EnrollmentTokenFile"/> and then written there (0600, atomically).
/// Neither set: the agent sends no credential (a broker that requires enrolment refuses it).
/// </summary>
internal sealed class AgentCredential(AgentOptions options, AgentIdentity identity, ILogger<AgentCredential> logger)
{
    private string? _credential;

    /// <summary>The <c>authorization</c> header for RegisterAgent and Heartbeat; null when the agent has no credential.</summary>
    public Metadata? Headers => _credential is null ? null : new Metadata { { "authorization", "Bearer " + _credential } };

    /// <summary>Loads the credential, or enrols to get one.</summary>
    /// <exception cref="RpcException">The broker refused the enrolment (the token is unknown, expired or used up).</exception>
    public async Task EnsureAsync(Protocol.V1.Broker.BrokerClient broker, string brokerAddress, DateTime deadline, CancellationToken ct)
    {
        if (_credential is not null)
        {
            return;
        }

        if (options.CredentialFile is not null && File.Exists(options.CredentialFile))
        {
            _credential = (await File.ReadAllTextAsync(options.CredentialFile, ct)).Trim();
            return;
        }

        if (options.EnrollmentTokenFile is null)
        {
            return;
        }

        string token = (await File.ReadAllTextAsync(options.EnrollmentTokenFile, ct)).Trim();
        EnrollAgentResponse enrolled = await broker.EnrollAgentAsync(
            new EnrollAgentRequest(), new Metadata { { "authorization", "Bearer " + token } }, deadline, ct);
        if (options.CredentialFile is not null)
        {
            WriteOwnerOnly(options.CredentialFile, enrolled.Credential);
        }

        _credential = enrolled.Credential;
        identity.Remember(enrolled.AgentId);
        AgentLog.AgentEnrolled(logger, brokerAddress, enrolled.AgentId, options.CredentialFile ?? "memory only");
    }

    private static void WriteOwnerOnly(string path, string content)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temporary, create))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
