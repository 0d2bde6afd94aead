using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Shop.ServiceDefaults;

/// <summary>
/// JWT validation that remembers the tokens it accepted (<see cref="AcceptedTokenMemory{TValue}"/>: for at most a
/// minute, never past their expiry): a client sends the same access token with every request, and checking its RSA
/// signature each time was most of the cost of an authenticated request through the gateway.
/// </summary>
public sealed class CachingJsonWebTokenHandler(TimeProvider timeProvider) : JsonWebTokenHandler
{
    public static readonly TimeSpan MaxRememberTime = AcceptedTokenMemory<Accepted>.MaxRememberTime;

    private readonly AcceptedTokenMemory<Accepted> _accepted = new(timeProvider);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (_accepted.TryGet(token, out var accepted))
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
            _accepted.Remember(token, new Accepted(jwt, result.ClaimsIdentity.Clone(), result.Issuer, result.TokenType), expires);
        }

        return result;
    }

    private sealed record Accepted(JsonWebToken Token, ClaimsIdentity Identity, string Issuer, string TokenType);
}
