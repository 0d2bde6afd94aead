using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

public sealed class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Postgres_and_redis_become_healthy()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.Services.AddLogging(l => l.AddProvider(new XunitLoggerProvider(output)));
        var postgres = builder.AddPostgres("postgres");
        postgres.AddDatabase("appdb");
        builder.AddRedis("cache");
        await using var app = await builder.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", cts.Token);
        var cs = await app.GetConnectionStringAsync("appdb", cts.Token);
        Assert.Contains("Database=appdb", cs);
    }
}
