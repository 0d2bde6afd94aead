using Gateway.Apis;
using Gateway.Caching;
using Gateway.Extensions;
using Gateway.Middleware;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddOrderDetailsApi();

var app = builder.Build();

// The storefront says who its visitors are in X-Forwarded-For: anonymous rate limits are per visitor.
app.UseTrustedProxies();
app.UseExceptionHandler();
app.UseProblemStatusCodePages();
app.UseRequestBodyLimit();

app.UseStorefrontCors();
app.UseBearerAuthentication();
app.UseCallerRateLimits();
app.UseAuthorization();
// After the rate limiter and authorization: a cached answer is still counted, and still only for who may have it.
app.UseTaggedResponseCache();

app.MapDefaultEndpoints();
app.MapOrderDetailsApi();
app.MapReverseProxy(proxy => proxy.UseGatewayProxyPipeline()).RequireRouteAudiences();

app.Run();
