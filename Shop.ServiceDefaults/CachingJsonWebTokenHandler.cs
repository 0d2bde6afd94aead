using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Shop.ServiceDefaults;

/// <summary>
/// JWT validation that remembers the tokens it accepted, for at most <see cref="MaxRememberTime"/> and never past
/// their expiry: a client sends the same access token with every request, and checking its RSA signature each time
/// was most of the cost of an authenticated request through the gateway. Only accepted tokens are remembered, by
/// their exact text, so a changed, expired or refused token is always validated in full. The price: a signing key
/// withdrawn from the issuer's key set still covers the tokens remembered in the last minute.
/// </summary>
public sealed class CachingJsonWebTokenHandler(TimeProvider timeProvider) : JsonWebTokenHandler
{
    public static readonly TimeSpan MaxRememberTime = TimeSpan.FromMinutes(1);

    private const int MaxRememberedTokens = 10_000;

    private readonly MemoryCache _accepted = new(new MemoryCacheOptions { SizeLimit = MaxRememberedTokens });

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = timeProvider.GetUtcNow();
        if (token is not null && _accepted.TryGetValue(token, out Accepted? accepted) && accepted!.Until > now)
        {
            // A copy each time: a request's principal may be changed by its handlers (claims transformation).
            return new TokenValidationResult
            {
                IsValid = true,
                SecurityToken = accepted.Token,
                ClaimsIdentity = accepted.Identity.Clone(),
                Issuer = accepted.Issuer,
                TokenType = accepted.TokenType,
            };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt && token is not null)
        {
            var expires = new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc));
            var until = expires < now + MaxRememberTime ? expires : now + MaxRememberTime;
            if (until > now)
            {
                _accepted.Set(
                    token,
                    new Accepted(jwt, result.ClaimsIdentity.Clone(), result.Issuer, result.TokenType, until),
                    new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
            }
        }

        return result;
    }

    private sealed record Accepted(JsonWebToken Token, System.Security.Claims.ClaimsIdentity Identity, string Issuer, string TokenType, DateTimeOffset Until);
}
