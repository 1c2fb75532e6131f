using AccelBroker.Broker.Attachments;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Security;

/// <summary>The key-management calls and host credentials in the broker's words, each change audited with who asked and from where.</summary>
internal sealed class ApiKeyAdministration(ApiKeyBook keys, AttachmentBook book, ILogger<ApiKeyAdministration> logger)
{
    // Issuing after an attach and retiring after the last detach are ordered, so a host is never left with
    // accelerators and no live credential, nor a credential and no accelerators.
    private readonly Lock _hostGate = new();

    public CreateApiKeyResponse Create(CreateApiKeyRequest request, ServerCallContext context)
    {
        AccessRole role = request.Role switch
        {
            ApiKeyRole.Viewer => AccessRole.Viewer,
            ApiKeyRole.Operator => AccessRole.Operator,
            ApiKeyRole.Admin => AccessRole.Admin,
            _ => throw DomainException.Invalid("role must be viewer, operator or admin (host credentials come from attach)"),
        };
        string creator = CallerName(context);
        (ApiKeyRecord key, string secret) = keys.Create(request.Name, role, creator);
        SecurityLog.ApiKeyCreated(logger, key.Name, key.Id, request.Role.ToString(), creator, context.Peer);
        return new CreateApiKeyResponse { Key = ToProto(key), Secret = secret };
    }

    public ListApiKeysResponse List(ListApiKeysRequest request)
    {
        var response = new ListApiKeysResponse();
        response.Keys.AddRange(keys.List(request.IncludeRevoked).Select(ToProto));
        return response;
    }

    public RevokeApiKeyResponse Revoke(RevokeApiKeyRequest request, ServerCallContext context)
    {
        if (!SecretCodec.IsId(request.Id))
        {
            throw DomainException.Invalid($"an API key id is {SecretCodec.IdLength} lowercase hex characters, as accel keys list shows it");
        }

        ApiKeyRecord key = keys.Revoke(request.Id);
        SecurityLog.ApiKeyRevoked(logger, key.Name, key.Id, CallerName(context), context.Peer);
        return new RevokeApiKeyResponse { Key = ToProto(key) };
    }

    /// <summary>Fills in the host's credential after an attach, when the host has none yet or a new one was asked for.</summary>
    public void IssueHostCredential(AttachRequest request, AttachResponse response, ServerCallContext context)
    {
        (ApiKeyRecord Key, string Secret)? credential;
        lock (_hostGate)
        {
            credential = keys.IssueHostCredential(request.Host, request.NewHostCredential);
        }

        if (credential is { } issued)
        {
            response.HostCredential = issued.Secret;
            response.HostCredentialId = issued.Key.Id;
            SecurityLog.HostCredentialIssued(logger, issued.Key.Id, request.Host, CallerName(context), context.Peer);
        }
    }

    /// <summary>After a detach: a host left without accelerators loses its credential, as an attachment's credential ends with it.</summary>
    public void RetireHostCredential(string host, ServerCallContext context)
    {
        int revoked;
        lock (_hostGate)
        {
            revoked = book.ForHost(host).Count == 0 ? keys.RevokeHost(host) : 0;
        }

        if (revoked > 0)
        {
            SecurityLog.HostCredentialRetired(logger, host, CallerName(context), context.Peer);
        }
    }

    public static string CallerName(ServerCallContext context) => BrokerAuthorization.CallerOf(context)?.ToString() ?? "anonymous";

    public static ApiKeyInfo ToProto(ApiKeyRecord key)
    {
        var info = new ApiKeyInfo
        {
            Id = key.Id,
            Name = key.Name,
            Role = key.Role switch
            {
                AccessRole.Viewer => ApiKeyRole.Viewer,
                AccessRole.Operator => ApiKeyRole.Operator,
                AccessRole.Admin => ApiKeyRole.Admin,
                _ => ApiKeyRole.Host,
            },
            CreatedAt = Timestamp.FromDateTimeOffset(key.CreatedAt),
            Host = key.Host ?? "",
            CreatedBy = key.CreatedBy ?? "",
        };
        if (key.RevokedAt is { } revoked)
        {
            info.RevokedAt = Timestamp.FromDateTimeOffset(revoked);
        }

        return info;
    }
}
