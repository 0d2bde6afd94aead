using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Products.Api.Model;

namespace Products.Api.Caching;

/// <summary>
/// Which cache tags a save invalidates, read from the change tracker, so no code path that changes the catalog can
/// forget to invalidate it. A product whose stock alone changed invalidates only its own tag; any other change to a
/// product, brand or category invalidates the catalog (listings, filters, ordering). A change no cached view shows
/// (units held for orders moving to sold: <see cref="Product.ReservedStock"/>, and the time of it) invalidates
/// nothing, so a paid order's sale costs no invalidation round through Redis and every replica.
/// </summary>
public static class CatalogChanges
{
    private static readonly HashSet<string> StockProperties =
        [nameof(Product.AvailableStock), nameof(Product.ReservedStock), nameof(Product.UpdatedAt)];

    /// <summary>Product properties that no cached read (<see cref="ProductItem"/>, pages, facets) contains.</summary>
    private static readonly HashSet<string> UncachedProperties = [nameof(Product.ReservedStock), nameof(Product.UpdatedAt)];

    /// <summary>The entries a save is about to write that concern the cache, and whether each is a catalog-wide change.</summary>
    public static List<(EntityEntry Entry, bool CatalogWide)> Capture(ChangeTracker changeTracker)
    {
        ArgumentNullException.ThrowIfNull(changeTracker);

        var changes = new List<(EntityEntry, bool)>();
        foreach (var entry in changeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            switch (entry.Entity)
            {
                case Product:
                    var modified = entry.State == EntityState.Modified ? entry.Properties.Where(p => p.IsModified).ToList() : null;
                    if (modified is not null && modified.All(p => UncachedProperties.Contains(p.Metadata.Name)))
                    {
                        break;
                    }

                    var stockOnly = modified is not null && modified.All(p => StockProperties.Contains(p.Metadata.Name));
                    changes.Add((entry, !stockOnly));
                    break;
                case Brand or Category:
                    changes.Add((entry, true));
                    break;
            }
        }

        return changes;
    }

    /// <summary>The tags of captured changes, once saved (ids generated on insert are known by then).</summary>
    public static IEnumerable<string> Tags(IEnumerable<(EntityEntry Entry, bool CatalogWide)> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var (entry, catalogWide) in changes)
        {
            if (catalogWide)
            {
                yield return CatalogCache.CatalogTag;
            }

            if (entry.Entity is Product product)
            {
                yield return CatalogCache.ProductTag(product.Id);
            }
        }
    }
}

/// <summary>
/// Cache tags waiting for their transaction to commit, per context. Weak keys: a context is forgotten with it; a
/// pooled context that is reused merely invalidates a little more than needed.
/// </summary>
internal static class PendingInvalidations
{
    private static readonly ConditionalWeakTable<DbContext, List<(EntityEntry, bool)>> Saving = [];
    private static readonly ConditionalWeakTable<DbContext, HashSet<string>> Committing = [];
    private static readonly ConditionalWeakTable<DbContext, object> NotWaiting = [];

    /// <summary>The context's next committed stock change tells the other replicas in the background (see <see cref="CommittedChanges"/>).</summary>
    public static void WithoutWaitingForOtherReplicas(DbContext context) => NotWaiting.AddOrUpdate(context, NotWaiting);

    /// <summary>Whether the committed change may go without waiting for the other replicas; forgets the mark.</summary>
    public static bool TakeNotWaiting(DbContext context) => NotWaiting.Remove(context);

    public static void BeginSave(DbContext context) => Saving.AddOrUpdate(context, CatalogChanges.Capture(context.ChangeTracker));

    public static void SaveFailed(DbContext context) => Saving.Remove(context);

    /// <summary>Moves the tags of the save that just succeeded to those waiting for the commit.</summary>
    public static void Saved(DbContext context)
    {
        if (Saving.TryGetValue(context, out var changes))
        {
            Saving.Remove(context);
            Committing.GetOrCreateValue(context).UnionWith(CatalogChanges.Tags(changes));
        }
    }

    public static string[] TakeCommitted(DbContext context)
    {
        if (!Committing.TryGetValue(context, out var tags))
        {
            return [];
        }

        Committing.Remove(context);
        return [.. tags];
    }

    public static void Discard(DbContext context)
    {
        Saving.Remove(context);
        Committing.Remove(context);
        NotWaiting.Remove(context);
    }
}

/// <summary>How long a committed change waits for its invalidation.</summary>
internal static class CommittedChanges
{
    /// <summary>
    /// A change returns once every replica (and the gateway) has dropped it, so that an admin sees their change at once
    /// wherever they read. The checkout saga's stock changes (<see cref="PendingInvalidations.WithoutWaitingForOtherReplicas"/>:
    /// an order's reservation or its release) return once this replica has: waiting for Redis and the other replicas
    /// would hold up every order for as long as Redis is slow to answer, for a stock figure that the other replicas
    /// drop a moment later anyway.
    /// </summary>
    public static Task InvalidateAsync(CatalogCacheInvalidator invalidator, string[] tags, bool waitForOtherReplicas)
    {
        if (waitForOtherReplicas || tags.Contains(CatalogCache.CatalogTag))
        {
            // Not the caller's token: the change is committed, so its invalidation must happen even if the caller gives up.
            return invalidator.InvalidateAsync(tags, CancellationToken.None);
        }

        invalidator.InvalidateWithoutWaiting(tags);
        return Task.CompletedTask;
    }
}

/// <summary>Invalidates after a save that committed on its own (no explicit transaction).</summary>
internal sealed class CatalogSaveChangesInterceptor(CatalogCacheInvalidator invalidator) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context)
        {
            PendingInvalidations.BeginSave(context);
        }

        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(SavingChanges(eventData, result));

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Saved(eventData.Context) is { Length: > 0 } tags)
        {
            // Synchronous saves are not used by this service; the invalidation still happens, without waiting for it.
            _ = invalidator.InvalidateAsync(tags, CancellationToken.None);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        // A save outside a transaction ends what it marked, whether or not it changed anything cached.
        var waitForOtherReplicas = eventData.Context is not { } context || context.Database.CurrentTransaction is not null
            || !PendingInvalidations.TakeNotWaiting(context);
        if (Saved(eventData.Context) is { Length: > 0 } tags)
        {
            await CommittedChanges.InvalidateAsync(invalidator, tags, waitForOtherReplicas);
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            PendingInvalidations.SaveFailed(context);
        }
    }

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    private static string[] Saved(DbContext? context)
    {
        if (context is null)
        {
            return [];
        }

        PendingInvalidations.Saved(context);
        // Inside an explicit transaction nothing is visible yet: the transaction interceptor invalidates on commit.
        return context.Database.CurrentTransaction is null ? PendingInvalidations.TakeCommitted(context) : [];
    }
}

/// <summary>Invalidates when a transaction that changed the catalog commits; forgets the change when it rolls back.</summary>
internal sealed class CatalogTransactionInterceptor(CatalogCacheInvalidator invalidator) : DbTransactionInterceptor
{
    // A pooled context outlives its transaction: a mark left from one (a reservation that changed nothing cached, or a
    // transaction disposed without a rollback) must not let the next user of the context, an admin, skip the wait.
    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        if (eventData.Context is { } context)
        {
            PendingInvalidations.TakeNotWaiting(context);
        }

        return result;
    }

    public override ValueTask<DbTransaction> TransactionStartedAsync(
        DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TransactionStarted(connection, eventData, result));

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            PendingInvalidations.TakeNotWaiting(context);
            if (PendingInvalidations.TakeCommitted(context) is { Length: > 0 } tags)
            {
                _ = invalidator.InvalidateAsync(tags, CancellationToken.None);
            }
        }
    }

    public override async Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context)
        {
            // Taken whether or not the transaction changed anything cached.
            var waitForOtherReplicas = !PendingInvalidations.TakeNotWaiting(context);
            if (PendingInvalidations.TakeCommitted(context) is { Length: > 0 } tags)
            {
                await CommittedChanges.InvalidateAsync(invalidator, tags, waitForOtherReplicas);
            }
        }
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            PendingInvalidations.Discard(context);
        }
    }

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }
}
