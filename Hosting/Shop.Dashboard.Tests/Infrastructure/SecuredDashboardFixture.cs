namespace Shop.Dashboard.Tests.Infrastructure;

/// <summary>One secured dashboard (browser token + OTLP API key) shared by the tests of a collection.</summary>
public sealed class SecuredDashboardFixture : IAsyncLifetime
{
    public DashboardProcess Dashboard { get; private set; } = default!;

    public async Task InitializeAsync() => Dashboard = await DashboardProcess.StartAsync();

    public async Task DisposeAsync() => await Dashboard.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SecuredDashboardCollection : ICollectionFixture<SecuredDashboardFixture>
{
    public const string Name = "Secured dashboard";
}
