using Products.Api.Apis;
using Products.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
// Under the service's own prefix, so the gateway's /api/products route reaches it too.
app.MapOpenApi("/api/products/openapi/{documentName}.json");
app.MapCatalogApi();
app.MapCatalogAdminApi();
app.MapDeadLetterApi("/api/products/dead-letters").RequireAuthorization(ShopPolicies.Admin);

app.Run();
