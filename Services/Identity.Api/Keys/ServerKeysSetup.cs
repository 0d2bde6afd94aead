using Identity.Api.Model;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace Identity.Api.Keys;

/// <summary>Gives OpenIddict the stored keys, newest first: OpenIddict signs and encrypts with the first of each kind.</summary>
internal sealed class ServerKeysSetup(SigningKeyStore store) : IConfigureOptions<OpenIddictServerOptions>
{
    public void Configure(OpenIddictServerOptions options)
    {
        foreach (var key in store.Keys)
        {
            if (key.Use == SigningKeyUse.Signing)
            {
                options.SigningCredentials.Add(new SigningCredentials(key.SecurityKey, SecurityAlgorithms.RsaSha256));
            }
            else
            {
                options.EncryptionCredentials.Add(new EncryptingCredentials(
                    key.SecurityKey, SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes256CbcHmacSha512));
            }
        }
    }
}
