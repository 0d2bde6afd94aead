using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Dashboard.Authentication;

namespace Shop.Dashboard.Apis;

/// <summary>
/// Browser-token sign-in, as the Aspire dashboard does it: <c>/login?t=TOKEN</c> (the link printed at start)
/// sets the auth cookie and redirects into the UI; <c>/login</c> alone shows a form that accepts the token.
/// </summary>
public static class LoginApi
{
    public const string LoginPath = "/login";

    public static IEndpointRouteBuilder MapLoginApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        endpoints.MapGet(LoginPath, SignInWithLinkAsync)
            .WithName("Login")
            .WithSummary("Signs in with the token from the login link, or shows the sign-in form.")
            .WithTags("Authentication")
            .AllowAnonymous();

        endpoints.MapPost(LoginPath, SignInWithFormAsync)
            .WithName("LoginForm")
            .WithSummary("Signs in with a token typed into the sign-in form.")
            .WithTags("Authentication")
            .AllowAnonymous()
            .DisableAntiforgery();

        endpoints.MapGet("/logout", async (HttpContext context, DashboardSessions sessions) =>
            {
                // Ended on the server too: the browser drops its cookie, but open tabs' circuits and any copy of the
                // cookie must stop working as well.
                if ((await context.AuthenticateAsync(DashboardAuthenticationDefaults.CookieScheme)).Principal is { } user)
                {
                    sessions.End(user);
                }

                await context.SignOutAsync(DashboardAuthenticationDefaults.CookieScheme);
                return TypedResults.Redirect(LoginPath);
            })
            .WithName("Logout")
            .WithSummary("Signs out of the dashboard.")
            .WithTags("Authentication")
            .AllowAnonymous();

        return endpoints;
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> SignInWithLinkAsync(
        HttpContext context, BrowserTokenValidator validator, IAntiforgery antiforgery, string? t, string? returnUrl)
    {
        if (!validator.IsSecured)
        {
            return TypedResults.Redirect("/");
        }

        if (t is not null)
        {
            if (validator.IsValid(t))
            {
                return await SignInAsync(context, returnUrl);
            }

            return Form(context, antiforgery, returnUrl, "That token is not valid for this dashboard.", StatusCodes.Status401Unauthorized);
        }

        return Form(context, antiforgery, returnUrl, error: null, StatusCodes.Status200OK);
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> SignInWithFormAsync(
        HttpContext context, BrowserTokenValidator validator, IAntiforgery antiforgery)
    {
        if (!validator.IsSecured)
        {
            return TypedResults.Redirect("/");
        }

        if (!context.Request.HasFormContentType)
        {
            return Form(context, antiforgery, returnUrl: null, "The sign-in request was not a form.", StatusCodes.Status400BadRequest);
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return Form(context, antiforgery, returnUrl: null, "The sign-in form could not be read.", StatusCodes.Status400BadRequest);
        }

        string? returnUrl = form["returnUrl"];
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Form(context, antiforgery, returnUrl, "The form expired; please try again.", StatusCodes.Status400BadRequest);
        }

        if (!validator.IsValid(form["token"]))
        {
            return Form(context, antiforgery, returnUrl, "That token is not valid for this dashboard.", StatusCodes.Status401Unauthorized);
        }

        return await SignInAsync(context, returnUrl);
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> SignInAsync(HttpContext context, string? returnUrl)
    {
        await context.SignInAsync(
            DashboardAuthenticationDefaults.CookieScheme,
            BrowserTokenValidator.CreatePrincipal(DashboardAuthenticationDefaults.CookieScheme, DashboardSessions.NewSessionId()),
            new AuthenticationProperties { IsPersistent = true });

        return TypedResults.Redirect(LocalReturnUrl(returnUrl));
    }

    /// <summary>
    /// The return URL if it is a path on this site, else <c>/</c>: it comes from the query string and must not send
    /// people elsewhere. Browsers drop tabs and newlines (<c>/\t/evil</c> becomes <c>//evil</c>) and read <c>/\</c>
    /// as <c>//</c>, so control characters and both prefixes are refused (ASP.NET Core's own local-URL check; its
    /// <c>~/</c> paths are not taken, as nothing here resolves them).
    /// </summary>
    internal static string LocalReturnUrl(string? returnUrl) =>
        returnUrl is ['/', ..] && RedirectHttpResult.IsLocalUrl(returnUrl) ? returnUrl : "/";

    private static ContentHttpResult Form(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error, int statusCode)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var html = HtmlEncoder.Default;
        var message = error is null ? "" : $"""<p class="login-error" role="alert">{html.Encode(error)}</p>""";
        var page = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8" />
              <meta name="viewport" content="width=device-width, initial-scale=1.0" />
              <title>Sign in · Shop dashboard</title>
              <link rel="stylesheet" href="/app.css" />
            </head>
            <body class="login-body">
              <main class="login-card">
                <h1>Shop dashboard</h1>
                <p>Paste the token from the login link printed in the console where the dashboard (or the AppHost) started.</p>
                {{message}}
                <form method="post" action="{{LoginPath}}">
                  <input type="hidden" name="{{html.Encode(tokens.FormFieldName)}}" value="{{html.Encode(tokens.RequestToken ?? "")}}" />
                  <input type="hidden" name="returnUrl" value="{{html.Encode(LocalReturnUrl(returnUrl))}}" />
                  <label for="token">Token</label>
                  <input id="token" name="token" type="password" autocomplete="off" autofocus required />
                  <button type="submit">Sign in</button>
                </form>
              </main>
            </body>
            </html>
            """;
        return TypedResults.Content(page, "text/html; charset=utf-8", statusCode: statusCode);
    }
}
