using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Xml.Linq;
using Identity.Api.Configuration;
using Identity.Api.Extensions;
using Identity.Api.Infrastructure;
using Identity.Api.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
            await using var scope = upgraded.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
            await using var transaction = await context.Database.BeginTransactionAsync(ct);
            await upgraded.GetRequiredService<KeyRingUpgrade>().EncryptPlainKeysAsync(context, ct);
            await transaction.CommitAsync(ct);
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
    public async Task Another_secret_cannot_read_the_key_ring_and_the_log_says_why_without_any_secret()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        string protectedPayload;
        await using (var first = Identity(connectionString, Secret))
        {
            protectedPayload = Protector(first).Protect(Payload);
        }

        var log = new LogCollector();
        await using var other = Identity(connectionString, OtherSecret, log);

        Assert.ThrowsAny<CryptographicException>(() => Protector(other).Unprotect(protectedPayload));
        // Data Protection logs the key element it could not read with our exception, once per attempt (it retries).
        var errors = log.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, error =>
        {
            Assert.Contains("<key id=", error.Message, StringComparison.Ordinal);
            Assert.IsType<CryptographicException>(error.Exception);
            Assert.Contains("data-protection key ring stored in identitydb (table DataProtectionKeys) cannot be decrypted", error.Exception.Message, StringComparison.Ordinal);
            Assert.Contains("does not match the one the keys were stored with", error.Exception.Message, StringComparison.Ordinal);
        });
        Assert.All(log.Entries, e =>
        {
            Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(OtherSecret, e.ToString(), StringComparison.Ordinal);
        });
    }

    /// <summary>Data Protection as identity configures it (<see cref="Extensions.AddKeyRing"/>).</summary>
    private static ServiceProvider Identity(string connectionString, string secret, ILoggerProvider? log = null)
    {
        var services = Services(connectionString, log);
        services.AddSingleton(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }));
        services.AddKeyRing();
        return services.BuildServiceProvider();
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

    private sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class LogCollector : ILoggerProvider
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCollector collector, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                collector.Entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
