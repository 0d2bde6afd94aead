using System.Security.Claims;
using Identity.Api.Apis;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Identity.Tests.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Tests;

/// <summary>Profile saves on a real PostgreSQL, each with a request scope of its own, as the API runs them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ProfileConcurrencyTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Simultaneous_saves_of_one_profile_all_succeed_and_the_last_one_wins()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, timeout.Token);
        await using var services = Identity(connectionString);
        var user = new ApplicationUser { UserName = "bob@example.com", Email = "bob@example.com", Name = "Bob" };
        await using (var scope = services.CreateAsyncScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().CreateAsync(user)).Succeeded);
        }

        var caller = new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, user.Id)], "Bearer"));
        var sent = Enumerable.Range(1, 12)
            .Select(i => new UpdateProfileRequest($"Bob N{i}", new ShippingAddress($"{i} Main Street", "Dublin", "D01", "Ireland")))
            .ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var saves = sent.Select(async request =>
        {
            await start.Task;
            await using var scope = services.CreateAsyncScope();
            var result = await UsersApi.UpdateMyProfile(request, caller,
                scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>(),
                scope.ServiceProvider.GetRequiredService<ApplicationDbContext>());
            return result.Result;
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(saves);

        Assert.All(results, result => Assert.IsType<Ok<UserProfile>>(result));
        await using (var scope = services.CreateAsyncScope())
        {
            var saved = await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(user.Id);
            var profile = UserProfile.From(saved!);
            Assert.Contains(sent, request => request.Name == profile.Name && request.ShippingAddress == profile.ShippingAddress);
        }
    }

    private static ServiceProvider Identity(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        services.AddIdentityCore<ApplicationUser>().AddEntityFrameworkStores<ApplicationDbContext>();
        return services.BuildServiceProvider();
    }
}
