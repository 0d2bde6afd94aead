using System.Text;
using Identity.Api.Extensions;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Identity.Api.Services;
using Identity.Tests.Keys;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Microsoft.Extensions.Hosting;

namespace Identity.Tests;

/// <summary>An address is one account however its letters are encoded: registration, sign-in and the upgrade.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AddressKeyTests(PostgresFixture postgres)
{
    private const string Password = "Correct#Horse7";
    private const string BeforeUnicodeKeys = "20261207130157_LastAccessFailedAt";
    private static readonly string Composed = "jürgen@müller.example".Normalize(NormalizationForm.FormC);
    private static readonly string Decomposed = Composed.Normalize(NormalizationForm.FormD);

    [Theory]
    [InlineData("JÜRGEN@MÜLLER.EXAMPLE")]
    [InlineData("ＡＤＡ@example.com")]
    public void Keys_ignore_how_the_letters_are_encoded(string address)
    {
        var normalizer = new UnicodeLookupNormalizer();
        var key = normalizer.NormalizeEmail(address);

        Assert.Equal(key, normalizer.NormalizeEmail(address.Normalize(NormalizationForm.FormD)));
        Assert.Equal(key, normalizer.NormalizeName(address.Normalize(NormalizationForm.FormKC).ToLowerInvariant()));
        // Not valid Unicode (a lone surrogate): left as it is rather than a 500.
        Assert.Equal("\uD800A@B.C", normalizer.NormalizeName("\uD800a@b.c"));
    }

    [Fact]
    public async Task An_address_registered_in_one_encoding_is_taken_in_another_and_found_by_both()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;
        await using var identity = Identity(await postgres.CreateDatabaseAsync(migration: null, ct));
        await using (var setup = identity.CreateAsyncScope())
        {
            await setup.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>().CreateAsync(new IdentityRole(ShopRoles.Customer));
        }

        Assert.True((await RegisterAsync(identity, Decomposed)).Succeeded);
        var again = await RegisterAsync(identity, Composed);
        var fullwidth = await RegisterAsync(identity, "ＪＵＲＧＥＮ@müller.example".Replace("ＵＲ", "ÜR", StringComparison.Ordinal));

        Assert.Contains("email", again.Errors.Keys);
        Assert.False(fullwidth.Succeeded);
        await using var scope = identity.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var account = Assert.Single(await users.Users.ToListAsync(ct));
        Assert.Equal(Composed, account.Email);
        foreach (var typed in new[] { Composed, Decomposed })
        {
            // What sign-in looks up by the address typed (a successful sign-in itself needs a request for its cookie).
            var found = await users.FindByNameAsync(typed);
            Assert.Equal(account.Id, found?.Id);
            Assert.True(await users.CheckPasswordAsync(found!, Password));
        }
    }

    [Fact]
    public async Task Accounts_stored_with_upper_cased_keys_are_found_by_their_new_keys_after_the_upgrade()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;
        var connectionString = await postgres.CreateDatabaseAsync(BeforeUnicodeKeys, ct);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            // As the upper-casing normalizer stored them: a decomposed address, and a fullwidth one.
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO "AspNetUsers" ("Id", "Name", "UserName", "NormalizedUserName", "Email", "NormalizedEmail", "EmailConfirmed", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnabled", "AccessFailedCount")
                VALUES ('decomposed', 'J', @decomposed, upper(@decomposed), @decomposed, upper(@decomposed), false, false, false, true, 0),
                       ('fullwidth', 'A', 'ａｄａ@example.com', 'ＡＤＡ@EXAMPLE.COM', 'ａｄａ@example.com', 'ＡＤＡ@EXAMPLE.COM', false, false, false, true, 0)
                """, connection);
            insert.Parameters.AddWithValue("decomposed", Decomposed);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using (var context = PostgresFixture.CreateContext(connectionString))
        {
            await context.Database.MigrateAsync(ct);
        }

        await using var identity = Identity(connectionString);
        await using var scope = identity.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Equal("decomposed", (await users.FindByEmailAsync(Composed))?.Id);
        Assert.Equal("fullwidth", (await users.FindByNameAsync("ada@example.com"))?.Id);
    }

    private static ServiceProvider Identity(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Identity.Api.Configuration.IdentityServerSettings { KeyEncryptionSecret = "aGeneratedSecret4AddressKeyTests" }));
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        services.AddIdentity<ApplicationUser, IdentityRole>(options =>
            {
                // As the service has them (Extensions.AddUserAccounts).
                options.User.RequireUniqueEmail = true;
                options.User.AllowedUserNameCharacters = string.Empty;
            })
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddSignInLockout();
        services.AddScoped<UserRegistration>();
        return services.BuildServiceProvider();
    }

    private static async Task<RegistrationResult> RegisterAsync(IServiceProvider identity, string email)
    {
        await using var scope = identity.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserRegistration>().RegisterAsync(new RegisterUserRequest(email, Password, "Jürgen"));
    }
}
