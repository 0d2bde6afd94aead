using Shop.Web.Apis;
using Shop.Web.Authentication;
using Shop.Web.Components;
using Shop.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// First: everything after it (and the gateway, told by VisitorAddressHandler) sees the visitor's own address and scheme.
app.UseTrustedProxies();
app.UseSecurityHeaders();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
}

app.UseNotFoundPageForNavigations();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseStaleFormRedirect();

app.MapStaticAssets();
app.MapRazorComponents<App>()
    .AddInteractiveServerRenderMode()
    .WithHeadForPages();

app.MapAuthenticationEndpoints();
app.MapPicturesApi();
app.MapDefaultEndpoints();

app.Run();
