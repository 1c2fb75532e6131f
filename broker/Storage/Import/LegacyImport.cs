using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Storage.Import;

/// <summary>
/// Brings the JSON files of brokers before broker.db into a new database, in the transaction that creates its schema:
/// either all of them are in broker.db or none is. Each imported file is then renamed to <c>NAME.imported</c>. A file
/// that cannot be read stops the start (its content is never silently dropped); only an unusable usage.json is set aside
/// with a warning, as before, usage being an account rather than what the fleet needs to run.
/// </summary>
internal static class LegacyImport
{
    public const string ImportedSuffix = ".imported";

    public static Func<SqliteConnection, SqliteTransaction, Action> Into(string dataDir, TimeProvider time, ILogger logger) =>
        (connection, transaction) =>
        {
            string Path(string name) => System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDir, name));

            // Read everything before writing anything: a bad file fails the start with nothing half imported.
            string attachmentsPath = Path(LegacyAttachmentsFile.FileName);
            string keysPath = Path(LegacyApiKeysFile.FileName);
            string tokensPath = Path(LegacyEnrollmentFiles.TokensFileName);
            string credentialsPath = Path(LegacyEnrollmentFiles.CredentialsFileName);
            string signingPath = Path(LegacySigningKeysFile.FileName);
            IReadOnlyList<AttachmentRecord>? attachments = LegacyAttachmentsFile.Read(attachmentsPath);
            IReadOnlyList<ApiKeyRecord>? keys = LegacyApiKeysFile.Read(keysPath);
            IReadOnlyList<EnrollmentTokenRecord>? tokens = LegacyEnrollmentFiles.ReadTokens(tokensPath);
            IReadOnlyList<AgentCredentialRecord>? credentials = LegacyEnrollmentFiles.ReadCredentials(credentialsPath);
            IReadOnlyList<SigningKey>? signing = LegacySigningKeysFile.Read(signingPath);
            UsageDocument? usage = ReadUsage(dataDir, time, logger);

            var imported = new List<(string Path, string Kind, int Count)>();
            try
            {
                Import(connection, transaction, SqliteAttachmentStore.Table, attachments, attachmentsPath, "attachments", imported);
                Import(connection, transaction, SqliteApiKeyStore.Table, keys, keysPath, "API keys", imported);
                Import(connection, transaction, SqliteEnrollmentTokenStore.Table, tokens, tokensPath, "enrolment tokens", imported);
                Import(connection, transaction, SqliteAgentCredentialStore.Table, credentials, credentialsPath, "agent credentials", imported);
                Import(connection, transaction, SqliteSigningKeyStore.Table, signing, signingPath, "signing keys", imported);
                Import(connection, transaction, SqliteUsageStore.Table, usage?.Accelerators, Path(UsageFile.FileName), "accelerators' usage", imported);
            }
            finally
            {
                // The ring reads its keys back from broker.db.
                foreach (SigningKey key in signing ?? [])
                {
                    key.Key.Dispose();
                }
            }

            return () => Rename(imported, logger);
        };

    private static UsageDocument? ReadUsage(string dataDir, TimeProvider time, ILogger logger)
    {
        var file = new UsageFile(dataDir);
        string path = System.IO.Path.GetFullPath(file.FilePath);
        try
        {
            return file.Read();
        }
        catch (InvalidDataException ex)
        {
            try
            {
                BrokerLog.UsageFileUnusable(logger, path, ex.Message, System.IO.Path.GetFullPath(file.SetAside(time.GetUtcNow())));
            }
            catch (Exception moveFailure) when (moveFailure is IOException or UnauthorizedAccessException)
            {
                BrokerLog.UsageFileNotSetAside(logger, path, ex.Message, moveFailure.Message);
            }

            return null;
        }
    }

    private static void Import<T>(
        SqliteConnection connection,
        SqliteTransaction transaction,
        SqliteTable<T> table,
        IReadOnlyList<T>? records,
        string path,
        string kind,
        List<(string Path, string Kind, int Count)> imported)
    {
        if (records is null)
        {
            return;
        }

        try
        {
            table.Replace(connection, transaction, records);
        }
        catch (SqliteException ex)
        {
            // A constraint the JSON file did not enforce (two keys with one id, say): the file is left as it is.
            throw new BrokerConfigurationException($"file '{path}' cannot be imported into the broker store: {ex.Message}", ex);
        }

        imported.Add((path, kind, records.Count));
    }

    private static void Rename(List<(string Path, string Kind, int Count)> imported, ILogger logger)
    {
        foreach ((string path, string kind, int count) in imported)
        {
            try
            {
                File.Move(path, path + ImportedSuffix, overwrite: false);
                StorageLog.LegacyFileImported(logger, count, kind, path, path + ImportedSuffix);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                StorageLog.LegacyFileNotRenamed(logger, path, ex.Message);
            }
        }
    }
}
