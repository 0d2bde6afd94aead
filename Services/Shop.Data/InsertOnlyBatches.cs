using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Update;
using Npgsql.EntityFrameworkCore.PostgreSQL.Update.Internal;

namespace Shop.Data;

/// <summary>
/// A <c>SaveChanges</c> that only inserts and fits one batch runs without <c>BEGIN</c> and <c>COMMIT</c>, one round
/// trip instead of two (a placed order with its lines, history and outbox row is one). It stays all-or-nothing:
/// Npgsql sends a batch with a single Sync, which PostgreSQL runs as one implicit transaction, so a failing statement
/// rolls back the ones before it. Saves that update or delete keep EF Core's transaction: EF Core checks their
/// affected rows only after the batch has run, and a failed check must still be able to roll the batch back. Saves
/// of several batches keep it too (EF Core begins one whenever more batches are expected).
/// </summary>
public static class InsertOnlyBatches
{
    /// <summary>Uses <see cref="InsertOnlyBatchFactory"/> for this context's saves.</summary>
    public static DbContextOptionsBuilder WithoutTransactionForInsertOnlyBatches(this DbContextOptionsBuilder options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ReplaceService<IModificationCommandBatchFactory, InsertOnlyBatchFactory>();
    }

    /// <inheritdoc cref="WithoutTransactionForInsertOnlyBatches(DbContextOptionsBuilder)"/>
    public static DbContextOptionsBuilder<TContext> WithoutTransactionForInsertOnlyBatches<TContext>(this DbContextOptionsBuilder<TContext> options)
        where TContext : DbContext =>
        (DbContextOptionsBuilder<TContext>)WithoutTransactionForInsertOnlyBatches((DbContextOptionsBuilder)options);
}

// Npgsql's batch is provider-internal API (EF1001): its version is pinned centrally, and InsertOnlyBatchTests check
// the behaviour this relies on against a real server.
#pragma warning disable EF1001
/// <summary>Npgsql's batches, told that a batch of inserts alone needs no transaction.</summary>
public sealed class InsertOnlyBatchFactory(ModificationCommandBatchFactoryDependencies dependencies, IDbContextOptions options)
    : IModificationCommandBatchFactory
{
    /// <summary>Npgsql's own default when the options set none.</summary>
    private const int DefaultMaxBatchSize = 1000;

    private readonly int _maxBatchSize = RelationalOptionsExtension.Extract(options).MaxBatchSize ?? DefaultMaxBatchSize;

    public ModificationCommandBatch Create() => new Batch(dependencies, _maxBatchSize);

    private sealed class Batch(ModificationCommandBatchFactoryDependencies dependencies, int maxBatchSize)
        : NpgsqlModificationCommandBatch(dependencies, maxBatchSize)
    {
        public override bool RequiresTransaction =>
            base.RequiresTransaction && !ModificationCommands.All(command => command.EntityState == EntityState.Added);
    }
}
#pragma warning restore EF1001
