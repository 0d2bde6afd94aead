using System.Security.Cryptography;
using System.Xml.Linq;
using Identity.Api.Configuration;
using Identity.Api.Extensions;
using Identity.Api.Infrastructure;
using Identity.Api.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shop.Testing;
using IdentityExtensions = Identity.Api.Extensions.Extensions;

namespace Identity.Tests.Keys;

/// <summary>
/// The data-protection key ring in identitydb, as identity configures it; each service provider is a process of its own
/// (a restart or another replica).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeyRingTests(PostgresFixture postgres)
{
    private const string Secret = "firstGeneratedSecret4Tests";
    private const string OtherSecret = "anotherGeneratedSecret4Tests";
    private const string Purpose = "Identity.Tests";
    private const string Payload = "a sign-in cookie's ticket";

    [Fact]
    public async Task A_new_key_is_stored_encrypted_and_another_process_with_the_same_secret_unprotects_with_it()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var first = Identity(connectionString, Secret);
        await using var second = Identity(connectionString, Secret);

        var protectedPayload = Protector(first).Protect(Payload);

        var row = Assert.Single(await StoredAsync(connectionString, ct));
        var masterKey = first.GetRequiredService<IKeyManager>().GetAllKeys().Single().Descriptor.ExportToXml()
            .SerializedDescriptorElement.Descendants("masterKey").Single().Element("value")!.Value;
        Assert.DoesNotContain(masterKey, row, StringComparison.Ordinal);
        Assert.Empty(XElement.Parse(row).Descendants("masterKey"));
        Assert.Contains(typeof(KeyRingXmlDecryptor).FullName!, row, StringComparison.Ordinal);
        Assert.Equal(Payload, Protector(second).Unprotect(protectedPayload));
        Assert.Equal(Payload, Protector(first).Unprotect(Protector(second).Protect(Payload)));
        Assert.Single(await StoredAsync(connectionString, ct));
    }

    [Fact]
    public async Task A_key_stored_in_plain_text_before_the_upgrade_still_unprotects_and_is_encrypted_in_place_at_start()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string protectedPayload;
        await using (var before = BeforeTheUpgrade(connectionString))
        {
            protectedPayload = Protector(before).Protect(Payload);
        }
        var plain = Assert.Single(await StoredAsync(connectionString, ct));
        var masterKey = XElement.Parse(plain).Descendants("masterKey").Single().Element("value")!.Value;

        await using (var upgraded = Identity(connectionString, Secret))
        {
            Assert.Equal(Payload, Protector(upgraded).Unprotect(protectedPayload));
            await UpgradeAsync(upgraded, ct);
        }

        var encrypted = Assert.Single(await StoredAsync(connectionString, ct));
        Assert.DoesNotContain(masterKey, encrypted, StringComparison.Ordinal);
        Assert.Empty(XElement.Parse(encrypted).Descendants("masterKey"));
        Assert.Equal((string?)XElement.Parse(plain).Attribute("id"), (string?)XElement.Parse(encrypted).Attribute("id"));
        await using var restarted = Identity(connectionString, Secret);
        Assert.Equal(Payload, Protector(restarted).Unprotect(protectedPayload));
        // Still the current key: protecting made no new one.
        Assert.Equal(Payload, Protector(restarted).Unprotect(Protector(restarted).Protect(Payload)));
        Assert.Single(await StoredAsync(connectionString, ct));
    }

    [Fact]
    public async Task A_new_key_s_master_key_is_stored_bound_to_the_key_s_id_and_another_process_unprotects_with_it()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var first = Identity(connectionString, Secret);
        await using var second = Identity(connectionString, Secret);

        var protectedPayload = Protector(first).Protect(Payload);

        var row = XElement.Parse(Assert.Single(await StoredAsync(connectionString, ct)));
        Assert.Equal("2", (string?)row.Descendants("encryptedKey").Single().Attribute("version"));
        Assert.Null(row.Descendants("encryptedKey").Single().Attribute("keyId"));
        Assert.Equal(Payload, Protector(second).Unprotect(protectedPayload));
    }

    [Fact]
    public async Task A_master_key_moved_into_another_key_s_row_is_refused()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string firstId, secondId;
        await using (var identity = Identity(connectionString, Secret))
        {
            Protector(identity).Protect(Payload);
            var keys = identity.GetRequiredService<IKeyManager>();
            var now = DateTimeOffset.UtcNow;
            keys.CreateNewKey(now.AddDays(1), now.AddDays(90));
            var ids = keys.GetAllKeys().OrderBy(k => k.CreationDate).Select(k => k.KeyId.ToString()).ToList();
            (firstId, secondId) = (ids[0], ids[1]);
        }

        // Someone with write access to identitydb, but not the secret, gives the second key the first key's master key.
        await using (var context = PostgresFixture.CreateContext(connectionString))
        {
            var rows = await context.DataProtectionKeys.ToListAsync(ct);
            var first = rows.Select(r => XElement.Parse(r.Xml!)).Single(k => (string?)k.Attribute("id") == firstId);
            var secondRow = rows.Single(r => (string?)XElement.Parse(r.Xml!).Attribute("id") == secondId);
            var second = XElement.Parse(secondRow.Xml!);
            second.Descendants("encryptedKey").Single().ReplaceWith(first.Descendants("encryptedKey").Single());
            secondRow.Xml = second.ToString(SaveOptions.DisableFormatting);
            await context.SaveChangesAsync(ct);
        }

        await using var restarted = Identity(connectionString, Secret);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => UpgradeAsync(restarted, ct));
        Assert.Contains($"The data-protection key {secondId} stored in identitydb", error.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => Protector(restarted).Protect(Payload));
    }

    [Fact]
    public async Task A_master_key_stored_unbound_before_is_bound_in_place_at_start_and_still_unprotects()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string protectedPayload;
        await using (var before = BeforeBinding(connectionString, Secret))
        {
            protectedPayload = Protector(before).Protect(Payload);
        }
        var unbound = XElement.Parse(Assert.Single(await StoredAsync(connectionString, ct)));
        Assert.Equal("1", (string?)unbound.Descendants("encryptedKey").Single().Attribute("version"));

        await using (var upgraded = Identity(connectionString, Secret))
        {
            await UpgradeAsync(upgraded, ct);
        }

        var bound = XElement.Parse(Assert.Single(await StoredAsync(connectionString, ct)));
        Assert.Equal("2", (string?)bound.Descendants("encryptedKey").Single().Attribute("version"));
        Assert.NotEqual(unbound.Descendants("encryptedKey").Single().Element("value")!.Value, bound.Descendants("encryptedKey").Single().Element("value")!.Value);
        Assert.Equal((string?)unbound.Attribute("id"), (string?)bound.Attribute("id"));
        await using var restarted = Identity(connectionString, Secret);
        Assert.Equal(Payload, Protector(restarted).Unprotect(protectedPayload));
        // Still the current key: protecting made no new one.
        Assert.Equal(Payload, Protector(restarted).Unprotect(Protector(restarted).Protect(Payload)));
        Assert.Single(await StoredAsync(connectionString, ct));
    }

    [Fact]
    public async Task Identity_started_with_another_secret_stops_saying_what_is_wrong_writes_no_key_and_starts_again_with_the_right_one()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string protectedPayload;
        await using (var first = Identity(connectionString, Secret))
        {
            protectedPayload = Protector(first).Protect(Payload);
        }
        var stored = await StoredAsync(connectionString, ct);

        var log = new LogCollector();
        await using (var app = IdentityApp(connectionString, OtherSecret, log))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync(ct));

            Assert.Contains("The data-protection key", error.Message, StringComparison.Ordinal);
            Assert.Contains("(table DataProtectionKeys) cannot be decrypted", error.Message, StringComparison.Ordinal);
            Assert.Contains("does not match the one the keys were stored with", error.Message, StringComparison.Ordinal);
            Assert.Contains("Start with the secret the keys were stored with", error.Message, StringComparison.Ordinal);
            Assert.Contains("delete the rows of the DataProtectionKeys table", error.Message, StringComparison.Ordinal);
        }

        // Data Protection never read the key ring (no error per key, no new key), and nothing was rewritten.
        Assert.DoesNotContain(log.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) && e.Level >= LogLevel.Warning);
        Assert.Equal(stored, await StoredAsync(connectionString, ct));
        Assert.All(log.Entries, e =>
        {
            Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(OtherSecret, e.ToString(), StringComparison.Ordinal);
        });
        await using (var app = IdentityApp(connectionString, Secret, new LogCollector()))
        {
            await app.StartAsync(ct);
            await app.StopAsync(ct);
        }

        Assert.Equal(stored, await StoredAsync(connectionString, ct));
        await using var rightSecretAgain = Identity(connectionString, Secret);
        Assert.Equal(Payload, Protector(rightSecretAgain).Unprotect(protectedPayload));
    }

    [Fact]
    public async Task Data_Protection_with_another_secret_gets_no_key_ring_and_stores_no_key_with_that_secret()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string protectedPayload;
        await using (var first = Identity(connectionString, Secret))
        {
            protectedPayload = Protector(first).Protect(Payload);
        }
        var stored = await StoredAsync(connectionString, ct);

        await using (var other = Identity(connectionString, OtherSecret))
        {
            var error = Assert.ThrowsAny<Exception>(() => Protector(other).Protect(Payload));
            Assert.Contains("cannot be decrypted", error.ToString(), StringComparison.Ordinal);
            Assert.ThrowsAny<CryptographicException>(() => Protector(other).Unprotect(protectedPayload));
        }

        Assert.Equal(stored, await StoredAsync(connectionString, ct));
        await using var rightSecretAgain = Identity(connectionString, Secret);
        Assert.Equal(Payload, Protector(rightSecretAgain).Unprotect(protectedPayload));
    }

    /// <summary>The identity service as Program.cs builds it, on <paramref name="connectionString"/>, not started.</summary>
    private static WebApplication IdentityApp(string connectionString, string secret, ILoggerProvider log)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(IdentityExtensions).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{IdentityExtensions.DatabaseConnectionName}"] = connectionString,
            ["Identity:Url"] = "http://localhost:5170",
            ["Identity:KeyEncryptionSecret"] = secret,
            ["urls"] = "http://127.0.0.1:0",
        });
        builder.Logging.ClearProviders().AddProvider(log);
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        return builder.Build();
    }

    /// <summary>Data Protection as identity configures it (<see cref="IdentityExtensions.AddKeyRing"/>).</summary>
    private static ServiceProvider Identity(string connectionString, string secret, ILoggerProvider? log = null)
    {
        var services = Services(connectionString, log);
        services.AddSingleton(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }));
        services.AddKeyRing();
        return services.BuildServiceProvider();
    }

    /// <summary>Data Protection as identity configured it before master keys were bound to their key's id.</summary>
    private static ServiceProvider BeforeBinding(string connectionString, string secret)
    {
        var services = Services(connectionString, log: null);
        services.AddSingleton(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }));
        services.AddSingleton<KeyRingXmlEncryptor>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<KeyRingXmlEncryptor>((options, encryptor) => options.XmlEncryptor = encryptor);
        services.AddDataProtection().SetApplicationName("Shop.Identity").PersistKeysToDbContext<ApplicationDbContext>();
        return services.BuildServiceProvider();
    }

    /// <summary>What start-up does to the key ring, inside the seeding transaction.</summary>
    private static async Task UpgradeAsync(ServiceProvider identity, CancellationToken cancellationToken)
    {
        await using var scope = identity.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        await identity.GetRequiredService<KeyRingUpgrade>().UpgradeAsync(context, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Data Protection as identity configured it before the key ring was encrypted.</summary>
    private static ServiceProvider BeforeTheUpgrade(string connectionString)
    {
        var services = Services(connectionString, log: null);
        services.AddDataProtection().SetApplicationName("Shop.Identity").PersistKeysToDbContext<ApplicationDbContext>();
        return services.BuildServiceProvider();
    }

    private static ServiceCollection Services(string connectionString, ILoggerProvider? log)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            if (log is not null)
            {
                logging.AddProvider(log);
            }
        });
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        return services;
    }

    private static IDataProtector Protector(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    private static async Task<List<string>> StoredAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var context = PostgresFixture.CreateContext(connectionString);
        return await context.DataProtectionKeys.AsNoTracking().Select(k => k.Xml!).ToListAsync(cancellationToken);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;
}
