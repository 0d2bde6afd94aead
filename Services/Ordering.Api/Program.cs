using Ordering.Api.Apis;
using Ordering.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapQuotesApi();
app.MapOrdersApi();
app.MapDeadLetterApi("/api/ordering/dead-letters").RequireAuthorization(ShopPolicies.Admin);

app.Run();
