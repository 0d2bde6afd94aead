using System.Security.Claims;
using Identity.Api.Model;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Api.Apis;

/// <summary>
/// The OpenID Connect endpoints whose decisions are the shop's: who is signed in (authorization), whether a user may
/// still get tokens (token), and signing out (end session). OpenIddict has already validated each request (client,
/// redirect URI, PKCE, scopes) before these handlers run.
/// </summary>
public static class ConnectApi
{
    public static IEndpointRouteBuilder MapConnectApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var connect = app.MapGroup("connect").ExcludeFromDescription();
        connect.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], Authorize).WithName("Authorize");
        connect.MapPost("/token", Exchange).WithName("Token");
        connect.MapMethods("/logout", [HttpMethods.Get, HttpMethods.Post], EndSession).WithName("EndSession");

        return app;
    }

    /// <summary>
    /// Signs the user into the client: the identity cookie says who they are; without it they are sent to the
    /// sign-in page, which comes back here. First-party clients need no consent.
    /// </summary>
    public static async Task<IResult> Authorize(HttpContext context, UserManager<ApplicationUser> users, IOpenIddictScopeManager scopes)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");

        var cookie = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = cookie.Succeeded ? await users.GetUserAsync(cookie.Principal) : null;
        if (user is null || await users.IsLockedOutAsync(user))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.LoginRequired, "The user is not signed in.");
            }

            var parameters = context.Request.HasFormContentType ? context.Request.Form.ToList() : context.Request.Query.ToList();
            return Results.Challenge(
                new AuthenticationProperties { RedirectUri = context.Request.PathBase + context.Request.Path + QueryString.Create(parameters) },
                [IdentityConstants.ApplicationScheme]);
        }

        var identity = await CreateIdentityAsync(user, users, request.GetScopes(), scopes, context.RequestAborted);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Redeems an authorization code or a refresh token. The claims are read afresh, so a changed name or role shows
    /// in the next access token, and a user who was deleted or locked out gets no more tokens.
    /// </summary>
    public static async Task<IResult> Exchange(HttpContext context, UserManager<ApplicationUser> users)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Forbid(Errors.UnsupportedGrantType, "Only the authorization code and refresh token grants are supported.");
        }

        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var subject = result.Principal?.GetClaim(Claims.Subject);
        var user = subject is null ? null : await users.FindByIdAsync(subject);
        if (user is null || await users.IsLockedOutAsync(user))
        {
            return Forbid(Errors.InvalidGrant, "The user no longer exists or is locked out.");
        }

        // Keeps OpenIddict's own claims (authorization and token ids, granted scopes and resources).
        var identity = new ClaimsIdentity(result.Principal!.Claims, TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        await SetUserClaimsAsync(identity, user, users);
        identity.SetDestinations(GetDestinations);

        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Ends the identity session, then OpenIddict returns to the client's registered post-logout URI. A request must
    /// say whose session it ends: the id token the client got for the signed-in user (<c>id_token_hint</c>, whose
    /// signature OpenIddict has checked). Without it any other site could sign the user out with a link or an image,
    /// so the user is asked instead, on the sign-out page (a form post with an antiforgery token).
    /// </summary>
    public static async Task<IResult> EndSession(HttpContext context, SignInManager<ApplicationUser> signIn, UserManager<ApplicationUser> users)
    {
        var cookie = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var signedIn = cookie.Succeeded ? users.GetUserId(cookie.Principal) : null;
        if (signedIn is not null)
        {
            var hint = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            if (hint.Principal?.GetClaim(Claims.Subject) != signedIn)
            {
                return Results.Redirect("/account/logout");
            }
        }

        await signIn.SignOutAsync();
        return Results.SignOut(
            new AuthenticationProperties { RedirectUri = "/account/logout" },
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<ClaimsIdentity> CreateIdentityAsync(
        ApplicationUser user, UserManager<ApplicationUser> users, IEnumerable<string> requestedScopes,
        IOpenIddictScopeManager scopes, CancellationToken cancellationToken)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        await SetUserClaimsAsync(identity, user, users);

        identity.SetScopes(requestedScopes);
        var resources = new List<string>();
        await foreach (var resource in scopes.ListResourcesAsync(identity.GetScopes(), cancellationToken))
        {
            resources.Add(resource);
        }

        identity.SetResources(resources);
        identity.SetDestinations(GetDestinations);
        return identity;
    }

    private static async Task SetUserClaimsAsync(ClaimsIdentity identity, ApplicationUser user, UserManager<ApplicationUser> users)
    {
        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(Claims.Email, user.Email)
            .SetClaim(Claims.Name, user.Name)
            .SetClaims(Claims.Role, [.. await users.GetRolesAsync(user)]);
    }

    /// <summary>
    /// APIs need name, e-mail and roles in the access token; the identity token carries them only for the scopes
    /// the client asked for.
    /// </summary>
    private static IEnumerable<string> GetDestinations(Claim claim)
    {
        var scope = claim.Type switch
        {
            Claims.Name => Scopes.Profile,
            Claims.Email => Scopes.Email,
            Claims.Role => Scopes.Roles,
            _ => null,
        };

        if (scope is null)
        {
            yield return Destinations.AccessToken;
            yield break;
        }

        yield return Destinations.AccessToken;
        if (claim.Subject?.HasScope(scope) == true)
        {
            yield return Destinations.IdentityToken;
        }
    }

    private static IResult Forbid(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
