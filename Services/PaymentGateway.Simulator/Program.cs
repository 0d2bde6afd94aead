using PaymentGateway.Simulator.Apis;
using PaymentGateway.Simulator.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddSimulator();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapDefaultEndpoints();
app.MapMerchantApi();
app.MapAdminApi();

app.Run();
