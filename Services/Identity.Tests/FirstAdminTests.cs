using Identity.Api.Configuration;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Identity.Tests.Keys;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Identity.Tests;

/// <summary>
/// Outside Development nobody was an admin and nothing made one (a tester's published deployment could not add a
/// product): Identity:FirstAdmin creates the first admin while none exists, on a real PostgreSQL.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FirstAdminTests(PostgresFixture postgres)
{
    private const string Email = "ops@shop.example";
    private const string GeneratedPassword = "k7Hq2mZp9WcXr4TnB8vLd3Fs";

    [Fact]
    public async Task With_no_admin_the_account_is_created_as_admin_and_customer_and_signs_in_with_the_password()
    {
        await using var identity = await IdentityAsync();

        await EnsureAsync(identity, new FirstAdminSettings { Email = Email, Password = GeneratedPassword });

        await using var scope = identity.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var admin = Assert.IsType<ApplicationUser>(await users.FindByEmailAsync(Email));
        Assert.Equal([ShopRoles.Admin, ShopRoles.Customer], (await users.GetRolesAsync(admin)).Order());
        Assert.True(await users.CheckPasswordAsync(admin, GeneratedPassword));
        Assert.True(admin.EmailConfirmed);
    }

    [Fact]
    public async Task Once_any_account_is_an_admin_nothing_is_created()
    {
        await using var identity = await IdentityAsync();
        await CreateUserAsync(identity, "first@shop.example", ShopRoles.Admin);

        await EnsureAsync(identity, new FirstAdminSettings { Email = Email, Password = GeneratedPassword });

        await using var scope = identity.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(Email));
    }

    [Fact]
    public async Task An_existing_account_is_never_made_the_admin_and_the_start_stops_saying_why()
    {
        await using var identity = await IdentityAsync();
        await CreateUserAsync(identity, Email, ShopRoles.Customer);

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(
            () => EnsureAsync(identity, new FirstAdminSettings { Email = Email, Password = GeneratedPassword }));

        Assert.Contains($"{Email} already has an account", exception.Message, StringComparison.Ordinal);
        await using var scope = identity.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().GetUsersInRoleAsync(ShopRoles.Admin));
    }

    [Theory]
    [InlineData(Email, null)]
    [InlineData(null, GeneratedPassword)]
    public async Task Half_a_setting_stops_the_start_naming_both_parameters(string? email, string? password)
    {
        await using var identity = await IdentityAsync();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(
            () => EnsureAsync(identity, new FirstAdminSettings { Email = email, Password = password }));

        Assert.Contains("identity-first-admin-email and identity-first-admin-password", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_password_must_pass_the_account_password_rules()
    {
        await using var identity = await IdentityAsync();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(
            () => EnsureAsync(identity, new FirstAdminSettings { Email = Email, Password = "short1" }));

        Assert.Contains("create the first admin", exception.Message, StringComparison.Ordinal);
        await using var scope = identity.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(Email));
    }

    private static async Task EnsureAsync(ServiceProvider identity, FirstAdminSettings settings)
    {
        await using var scope = identity.CreateAsyncScope();
        await IdentitySeed.EnsureFirstAdminAsync(
            scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>(), settings, NullLogger.Instance);
    }

    /// <summary>Identity's accounts on a new migrated database, with its two roles (made by the seed at every start).</summary>
    private async Task<ServiceProvider> IdentityAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, timeout.Token);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        services.AddIdentity<ApplicationUser, IdentityRole>().AddEntityFrameworkStores<ApplicationDbContext>();
        var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in new[] { ShopRoles.Admin, ShopRoles.Customer })
        {
            Assert.True((await roles.CreateAsync(new IdentityRole(role))).Succeeded);
        }

        return provider;
    }

    private static async Task CreateUserAsync(ServiceProvider identity, string email, string role)
    {
        await using var scope = identity.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser { UserName = email, Email = email, Name = "Someone" };
        Assert.True((await users.CreateAsync(user, "Correct#Horse7")).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
    }
}
