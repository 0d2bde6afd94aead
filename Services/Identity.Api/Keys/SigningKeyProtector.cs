using System.Security.Cryptography;
using System.Text;
using Identity.Api.Configuration;
using Microsoft.Extensions.Options;

namespace Identity.Api.Keys;

/// <summary>
/// Encrypts the private keys kept in identitydb with the key-encryption secret, which is configured outside the
/// database (<see cref="IdentityServerSettings.KeyEncryptionSecret"/>): a copy of identitydb alone gives no key to
/// mint tokens with. A stored value reads <c>v1:</c> followed by the base64 of nonce, ciphertext and tag (AES-256-GCM);
/// the key's id is authenticated with it, so a value moved to another row does not decrypt.
/// </summary>
public sealed class SigningKeyProtector
{
    public const string Prefix = "v1:";

    private readonly KeyEncryptionKey _key;

    public SigningKeyProtector(IOptions<IdentityServerSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _key = KeyEncryptionKey.ForSigningKeys(settings.Value);
    }

    /// <summary>Whether a stored value is encrypted; a key written before keys were encrypted is a plain PEM.</summary>
    public static bool IsProtected(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return stored.StartsWith(Prefix, StringComparison.Ordinal);
    }

    public string Protect(string keyId, string privateKeyPem)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(privateKeyPem);

        return Prefix + Convert.ToBase64String(_key.Seal(Encoding.UTF8.GetBytes(privateKeyPem), Encoding.UTF8.GetBytes(keyId)));
    }

    /// <summary>The private key's PEM.</summary>
    /// <exception cref="CryptographicException">
    /// The value was encrypted with another secret or for another key, or it was altered.
    /// </exception>
    public string Unprotect(string keyId, string stored)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(stored);
        if (!IsProtected(stored))
        {
            throw new CryptographicException($"The stored value is not in the '{Prefix}' format.");
        }

        byte[] sealedValue;
        try
        {
            sealedValue = Convert.FromBase64String(stored[Prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new CryptographicException("The stored value is not valid base64.");
        }

        return Encoding.UTF8.GetString(_key.Open(sealedValue, Encoding.UTF8.GetBytes(keyId)));
    }
}
