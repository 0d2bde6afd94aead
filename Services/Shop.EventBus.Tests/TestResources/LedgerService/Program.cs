using LedgerService;

var builder = WebApplication.CreateBuilder(args);
builder.AddLedger();
builder.Services.AddMigration<LedgerContext>();

var app = builder.Build();
app.MapHealthChecks("/health");
app.MapDeadLetterApi();
app.MapPost("/orders", async (int count, int accounts, int perTransaction, LedgerContext db, CancellationToken cancellationToken) =>
{
    var placed = await db.PlaceOrdersAsync(count, accounts, "account-", perTransaction, cancellationToken);
    return TypedResults.Ok(placed.Count);
});
app.Run();
