using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Shop.Data;

/// <summary>
/// What each service's tests check of its DbContext: every model change has its migration, and the service starts on
/// an EF Core compiled model (<c>Infrastructure/CompiledModel</c>, made by <c>eng/compiled-models.sh</c>) that matches
/// what <c>OnModelCreating</c> builds. Start-up relies on both: it skips <c>MigrateAsync</c> when every migration is
/// applied, and EF Core uses the compiled model without running <c>OnModelCreating</c>.
/// </summary>
public static class ModelChecks
{
    /// <returns>One sentence per problem found, saying how to fix it; empty when the model is current.</returns>
    public static IReadOnlyList<string> FindDrift(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        var name = context.GetType().Name;
        List<string> problems = [];
        if (context.Database.HasPendingModelChanges())
        {
            problems.Add($"{name} has model changes without a migration: add one with `dotnet ef migrations add <Name>` in its project, then run eng/compiled-models.sh.");
        }

        // A compiled model is generated into the service's own assembly; the one EF Core builds at run time is not.
        var runtimeModel = context.Model;
        if (runtimeModel.GetType().Assembly != context.GetType().Assembly)
        {
            problems.Add($"{name} has no compiled model, so every start runs OnModelCreating: run eng/compiled-models.sh.");
            return problems;
        }

        // The design-time model is always built by OnModelCreating: the compiled model must describe the same database.
        var designTimeModel = context.GetService<IDesignTimeModel>().Model;
        var compiled = Describe(runtimeModel.GetRelationalModel());
        var built = Describe(designTimeModel.GetRelationalModel());
        var differences = built.Except(compiled).Select(d => "missing " + d).Concat(compiled.Except(built).Select(d => "stale " + d)).ToList();
        if (differences.Count > 0)
        {
            problems.Add($"{name}'s compiled model is out of date ({string.Join("; ", differences.Take(5))}"
                + (differences.Count > 5 ? $" and {differences.Count - 5} more" : "") + "): run eng/compiled-models.sh.");
        }

        return problems;
    }

    /// <summary>The database a model maps to, one line per table, column, key, index and foreign key.</summary>
    private static HashSet<string> Describe(IRelationalModel model)
    {
        HashSet<string> lines = [];
        foreach (var table in model.Tables)
        {
            var name = table.Schema is null ? table.Name : $"{table.Schema}.{table.Name}";
            lines.Add($"table {name}");
            lines.UnionWith(table.Columns.Select(c => $"column {name}.{c.Name} {c.StoreType}{(c.IsNullable ? " null" : "")}"));
            lines.UnionWith(table.UniqueConstraints.Select(k => $"key {name}.{k.Name} ({Columns(k.Columns)})"));
            lines.UnionWith(table.Indexes.Select(i => $"index {name}.{i.Name} ({Columns(i.Columns)}){(i.IsUnique ? " unique" : "")} {i.Filter}"));
            lines.UnionWith(table.ForeignKeyConstraints.Select(f => $"foreign key {name}.{f.Name} ({Columns(f.Columns)}) -> {f.PrincipalTable.Name} {f.OnDeleteAction}"));
        }

        return lines;
    }

    private static string Columns(IEnumerable<IColumn> columns) => string.Join(", ", columns.Select(c => c.Name));
}
