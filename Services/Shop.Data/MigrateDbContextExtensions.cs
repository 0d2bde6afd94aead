using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Trace;
using Shop.Data;

namespace Microsoft.Extensions.DependencyInjection;

public static class MigrateDbContextExtensions
{
    /// <summary>
    /// Applies <typeparamref name="TContext"/>'s EF Core migrations, then runs <paramref name="seeder"/>, while the
    /// host starts and before the server accepts requests, so <c>/health</c> answers only over a migrated
    /// database. Transient connection failures are retried for a short while; a database that stays
    /// unreachable stops the process with a message naming it.
    /// </summary>
    /// <param name="seeder">Optional; runs after the migrations on every start, so it must be idempotent.</param>
    public static IServiceCollection AddMigration<TContext>(
        this IServiceCollection services,
        Func<TContext, IServiceProvider, CancellationToken, Task>? seeder = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);

        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<MigrationHostedService<TContext>>(
            sp, seeder ?? ((_, _, _) => Task.CompletedTask)));

        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(MigrationTelemetry.ActivitySourceName));

        return services;
    }
}
