using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Gateway.Tests;

public class CachingJsonWebTokenHandlerTests
{
    private const string Issuer = "http://localhost:5000/";
    private const string Audience = "products";

    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key" };
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task An_accepted_token_is_remembered_for_at_most_a_minute_then_validated_in_full_again()
    {
        var handler = new CachingJsonWebTokenHandler(_time);
        var token = CreateToken(expires: DateTime.UtcNow.AddMinutes(10));

        Assert.True((await handler.ValidateTokenAsync(token, Parameters(_key))).IsValid);

        // Remembered: even parameters that no longer know the key accept it.
        var withoutKey = Parameters(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "other-key" });
        var remembered = await handler.ValidateTokenAsync(token, withoutKey);
        Assert.True(remembered.IsValid);
        Assert.Equal("user-1", remembered.ClaimsIdentity.FindFirst("sub")?.Value);

        _time.Advance(CachingJsonWebTokenHandler.MaxRememberTime);
        Assert.False((await handler.ValidateTokenAsync(token, withoutKey)).IsValid);
    }

    [Fact]
    public async Task A_token_is_never_remembered_past_its_expiry()
    {
        var handler = new CachingJsonWebTokenHandler(_time);
        var token = CreateToken(expires: DateTime.UtcNow.AddSeconds(20));
        Assert.True((await handler.ValidateTokenAsync(token, Parameters(_key))).IsValid);

        _time.Advance(TimeSpan.FromSeconds(21));

        Assert.False((await handler.ValidateTokenAsync(token, Parameters(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "other-key" }))).IsValid);
    }

    [Fact]
    public async Task Refused_tokens_are_not_remembered_and_each_caller_gets_its_own_identity()
    {
        var handler = new CachingJsonWebTokenHandler(_time);
        var token = CreateToken(expires: DateTime.UtcNow.AddMinutes(10));
        Assert.False((await handler.ValidateTokenAsync(token, Parameters(_key, audience: "payment"))).IsValid);
        Assert.False((await handler.ValidateTokenAsync(token, Parameters(_key, audience: "payment"))).IsValid);

        var first = await handler.ValidateTokenAsync(token, Parameters(_key));
        var second = await handler.ValidateTokenAsync(token, Parameters(_key));
        first.ClaimsIdentity.AddClaim(new Claim("added", "by a handler"));

        Assert.Null(second.ClaimsIdentity.FindFirst("added"));
    }

    private string CreateToken(DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = Audience,
        Subject = new ClaimsIdentity([new Claim("sub", "user-1")]),
        IssuedAt = DateTime.UtcNow.AddMinutes(-1),
        NotBefore = DateTime.UtcNow.AddMinutes(-1),
        Expires = expires,
        TokenType = "at+jwt",
        SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
    });

    private static TokenValidationParameters Parameters(SecurityKey key, string audience = Audience) => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = audience,
        IssuerSigningKey = key,
        ValidTypes = ["at+jwt"],
    };
}
