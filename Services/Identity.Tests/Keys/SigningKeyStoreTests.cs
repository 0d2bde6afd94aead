using System.Security.Cryptography;
using Identity.Api.Configuration;
using Identity.Api.Keys;
using Identity.Api.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Tests.Keys;

/// <summary>The server's keys in identitydb, as each start of the service reads, upgrades and rotates them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SigningKeyStoreTests(PostgresFixture postgres)
{
    private const string Secret = "firstGeneratedSecret4Tests";
    private const string OtherSecret = "anotherGeneratedSecret4Tests";

    // The last migration before keys were encrypted: its column holds plain PEMs.
    private const string BeforeEncryption = "20261124155339_AuthorizationServer";

    [Fact]
    public async Task Keys_are_stored_encrypted_and_the_next_start_loads_the_same_keys()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);

        var first = await StartAsync(connectionString, Secret, ct);
        var second = await StartAsync(connectionString, Secret, ct);

        var stored = await StoredAsync(connectionString, ct);
        Assert.Equal(2, stored.Count);
        Assert.All(stored, key =>
        {
            Assert.StartsWith(SigningKeyProtector.Prefix, key.EncryptedPrivateKey, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", key.EncryptedPrivateKey, StringComparison.Ordinal);
        });
        Assert.Equal(KeyIds(first), KeyIds(second));
        Assert.Equal([SigningKeyUse.Signing, SigningKeyUse.Encryption], first.Select(k => k.Use).Order());
        foreach (var before in first)
        {
            var after = second.Single(k => k.SecurityKey.KeyId == before.SecurityKey.KeyId);
            Assert.Equal(Modulus(before.SecurityKey.Rsa), Modulus(after.SecurityKey.Rsa));
        }
    }

    [Fact]
    public async Task Keys_stored_in_plain_text_before_the_upgrade_are_encrypted_in_place_and_kept()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(BeforeEncryption, ct);
        using var signing = RSA.Create(2048);
        using var encryption = RSA.Create(2048);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            foreach (var (id, use, rsa) in new[] { ("legacy-signing", "Signing", signing), ("legacy-encryption", "Encryption", encryption) })
            {
                await using var insert = new NpgsqlCommand(
                    """INSERT INTO "SigningKeys" ("Id", "Use", "PrivateKeyPem", "CreatedAt") VALUES ($1, $2, $3, now() - interval '1 day')""", connection)
                {
                    Parameters = { new() { Value = id }, new() { Value = use }, new() { Value = rsa.ExportPkcs8PrivateKeyPem() } },
                };
                await insert.ExecuteNonQueryAsync(ct);
            }
        }

        await using (var context = PostgresFixture.CreateContext(connectionString))
        {
            await context.Database.MigrateAsync(ct);
        }

        var keys = await StartAsync(connectionString, Secret, ct);

        var stored = await StoredAsync(connectionString, ct);
        Assert.Equal(["legacy-encryption", "legacy-signing"], stored.Select(k => k.Id).Order());
        Assert.All(stored, key => Assert.StartsWith(SigningKeyProtector.Prefix, key.EncryptedPrivateKey, StringComparison.Ordinal));
        Assert.Equal(["legacy-encryption", "legacy-signing"], KeyIds(keys));
        Assert.Equal(Modulus(signing), Modulus(keys.Single(k => k.Use == SigningKeyUse.Signing).SecurityKey.Rsa));
        Assert.Equal(Modulus(encryption), Modulus(keys.Single(k => k.Use == SigningKeyUse.Encryption).SecurityKey.Rsa));
    }

    [Fact]
    public async Task Another_secret_fails_the_start_saying_it_does_not_match_and_makes_no_new_key()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await StartAsync(connectionString, Secret, ct);
        var before = await StoredAsync(connectionString, ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(connectionString, OtherSecret, ct));

        Assert.Contains("cannot be decrypted: the key-encryption secret", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match the one the keys were stored with", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OtherSecret, error.Message, StringComparison.Ordinal);
        var after = await StoredAsync(connectionString, ct);
        Assert.Equal(before.Select(k => (k.Id, k.EncryptedPrivateKey)), after.Select(k => (k.Id, k.EncryptedPrivateKey)));
    }

    [Fact]
    public async Task A_stored_key_altered_in_the_database_fails_the_start()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await StartAsync(connectionString, Secret, ct);
        await using (var context = PostgresFixture.CreateContext(connectionString))
        {
            var key = await context.SigningKeys.SingleAsync(k => k.Use == SigningKeyUse.Signing, ct);
            var bytes = Convert.FromBase64String(key.EncryptedPrivateKey[SigningKeyProtector.Prefix.Length..]);
            bytes[100] ^= 0x01;
            key.EncryptedPrivateKey = SigningKeyProtector.Prefix + Convert.ToBase64String(bytes);
            await context.SaveChangesAsync(ct);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(connectionString, Secret, ct));

        Assert.Contains("Signing key", error.Message, StringComparison.Ordinal);
        Assert.Contains("or the stored value was altered", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What the service's start does with the keys: a store of its own, as a new process has.</summary>
    private static async Task<IReadOnlyList<ServerKey>> StartAsync(string connectionString, string secret, CancellationToken cancellationToken)
    {
        var settings = Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret });
        var store = new SigningKeyStore(new SigningKeyProtector(settings), TimeProvider.System, settings, NullLogger<SigningKeyStore>.Instance);
        await using var context = PostgresFixture.CreateContext(connectionString);
        await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        await store.EnsureKeysAsync(context, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return store.Keys;
    }

    private static async Task<List<SigningKey>> StoredAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var context = PostgresFixture.CreateContext(connectionString);
        return await context.SigningKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken);
    }

    private static List<string> KeyIds(IEnumerable<ServerKey> keys) => [.. keys.Select(k => k.SecurityKey.KeyId).Order()];

    private static byte[] Modulus(RSA rsa) => rsa.ExportParameters(includePrivateParameters: false).Modulus!;

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;
}
