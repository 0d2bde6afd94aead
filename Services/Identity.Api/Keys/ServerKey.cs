using Identity.Api.Model;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Api.Keys;

/// <summary>A stored key, decrypted, as IdentityModel uses it: its stored id is the <c>kid</c>.</summary>
public sealed record ServerKey(SigningKeyUse Use, DateTimeOffset CreatedAt, RsaSecurityKey SecurityKey);
