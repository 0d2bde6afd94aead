using System.Text.Json;

// A bare minimal API: no auth, no telemetry, no database or cache, only the catalog page the products service
// answered (--Page=file.json), read once and serialized again on every request, as the service does from its cache.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();

var file = builder.Configuration["Page"] ?? throw new InvalidOperationException("Pass --Page=path/to/page.json.");
var page = JsonSerializer.Deserialize<Page>(File.ReadAllText(file), JsonSerializerOptions.Web)
    ?? throw new InvalidOperationException($"{file} holds no page.");

var app = builder.Build();
app.MapGet("/api/products/items", () => TypedResults.Ok(page));
app.Run();

internal sealed record Page(int PageIndex, int PageSize, long Count, IReadOnlyList<Item> Data);

internal sealed record Item(
    int Id,
    string Name,
    string Description,
    decimal Price,
    string Brand,
    string Category,
    string PictureFileName,
    int AvailableStock,
    int BrandId,
    int CategoryId,
    string PictureUrl);
