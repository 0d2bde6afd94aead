using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests;

/// <summary>
/// Access tokens shaped as the identity service issues them (RS256, <c>typ</c> at+jwt, one <c>aud</c> per API scope,
/// <c>role</c> claims), signed with a key of the test's own, which an app trusts after <see cref="TrustTestTokens"/>.
/// </summary>
internal static class TestTokens
{
    /// <summary>What the test app sets as <c>Identity:Url</c>; never fetched: its metadata is given in code.</summary>
    public const string Issuer = "http://identity.test/";

    private static readonly RsaSecurityKey Key = new(RSA.Create(2048)) { KeyId = "test-signing-key" };

    public static string Mint(string subject, string[] audiences, params string[] roles) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [JwtRegisteredClaimNames.Aud] = audiences,
                ["role"] = roles,
            },
            IssuedAt = DateTime.UtcNow.AddMinutes(-1),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            Expires = DateTime.UtcNow.AddMinutes(10),
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.RsaSha256),
        });

    /// <summary>
    /// The JWT handler that <c>AddDefaultAuthentication</c> set up takes the test's issuer and key as the identity
    /// service's discovery document would give them; everything else it checks as configured.
    /// </summary>
    public static IServiceCollection TrustTestTokens(this IServiceCollection services) =>
        services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
        {
            options.Configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
            options.Configuration.SigningKeys.Add(Key);
        });
}
