using Payment.Api.Apis;
using Payment.Api.Extensions;

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
app.MapPaymentsApi();
app.MapDeadLetterApi("/api/payment/dead-letters").RequireAuthorization(ShopPolicies.Admin);

app.Run();
