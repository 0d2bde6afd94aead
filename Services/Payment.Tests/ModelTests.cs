using Microsoft.EntityFrameworkCore;
using Payment.Api.Infrastructure;
using Shop.Data;

namespace Payment.Tests;

/// <summary>The service starts on its compiled model and skips MigrateAsync when every migration is applied: both must match the model.</summary>
public sealed class ModelTests
{
    [Fact]
    public void Every_model_change_has_its_migration_and_the_compiled_model_is_current()
    {
        using var context = new PaymentContext(new DbContextOptionsBuilder<PaymentContext>().UseNpgsql("Host=localhost").Options);

        var drift = ModelChecks.FindDrift(context);
        Assert.True(drift.Count == 0, string.Join(Environment.NewLine, drift));
    }
}
