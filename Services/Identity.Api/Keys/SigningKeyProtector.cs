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

    private const int NonceSize = 12;
    private const int TagSize = 16;

    // The secret is generated with high entropy, so HKDF suffices; slow password stretching would only lengthen start-up.
    private static readonly byte[] DerivationInfo = "Shop.Identity signing keys v1"u8.ToArray();

    private readonly byte[] _key;

    public SigningKeyProtector(IOptions<IdentityServerSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);

        var secret = settings.Value.KeyEncryptionSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw new InvalidOperationException(IdentityServerSettingsValidator.MissingSecretMessage);
        }

        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: DerivationInfo);
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

        var plaintext = Encoding.UTF8.GetBytes(privateKeyPem);
        var sealedValue = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedValue.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(NonceSize, plaintext.Length),
                sealedValue.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(keyId));
        }
        return Prefix + Convert.ToBase64String(sealedValue);
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

        if (sealedValue.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The stored value is too short to hold a nonce and a tag.");
        }

        var plaintext = new byte[sealedValue.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedValue.AsSpan(0, NonceSize), sealedValue.AsSpan(NonceSize, plaintext.Length),
            sealedValue.AsSpan(NonceSize + plaintext.Length), plaintext, Encoding.UTF8.GetBytes(keyId));
        return Encoding.UTF8.GetString(plaintext);
    }
}
