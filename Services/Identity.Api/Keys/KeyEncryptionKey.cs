using System.Security.Cryptography;
using System.Text;
using Identity.Api.Configuration;

namespace Identity.Api.Keys;

/// <summary>
/// The one place that turns the key-encryption secret (<see cref="IdentityServerSettings.KeyEncryptionSecret"/>) into
/// keys: a 256-bit key derived by HKDF-SHA256, one per kind of stored value, used for AES-256-GCM (<see cref="Seal"/>)
/// or HMAC-SHA256 (<see cref="Hash"/>). Each kind has its own HKDF label, so its key is independent of the others' and
/// a value encrypted for one kind never decrypts as another. A sealed value is the nonce, the ciphertext and the tag,
/// one after the other.
/// </summary>
internal sealed class KeyEncryptionKey
{
    /// <summary>
    /// Says what to do when a stored key does not decrypt; the messages that use it add which key and what deleting it costs.
    /// </summary>
    public const string SecretMismatchGuidance =
        $"the key-encryption secret ({IdentityServerSettings.SectionName}:KeyEncryptionSecret, AppHost parameter " +
        "identity-key-encryption-secret) does not match the one the keys were stored with, or the stored value was " +
        "altered. Start with the secret the keys were stored with.";

    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    private KeyEncryptionKey(IdentityServerSettings settings, ReadOnlySpan<byte> label)
    {
        var secret = settings.KeyEncryptionSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw new InvalidOperationException(IdentityServerSettingsValidator.MissingSecretMessage);
        }

        // The secret is generated with high entropy, so HKDF suffices; slow password stretching would only lengthen start-up.
        _key = new byte[KeySize];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), _key, salt: [], info: label);
    }

    /// <summary>For the server's RSA keys (<see cref="SigningKeyProtector"/>). The label is part of the stored format.</summary>
    public static KeyEncryptionKey ForSigningKeys(IdentityServerSettings settings) =>
        new(settings, "Shop.Identity signing keys v1"u8);

    /// <summary>For the data-protection key ring (<see cref="KeyRingXmlEncryptor"/>). The label is part of the stored format.</summary>
    public static KeyEncryptionKey ForKeyRing(IdentityServerSettings settings) =>
        new(settings, "Shop.Identity data-protection key ring v1"u8);

    /// <summary>
    /// For the addresses without an account whose failed sign-ins are counted (<see cref="Services.UnknownAddressLockout"/>):
    /// only their HMAC is stored. The label is part of the stored format.
    /// </summary>
    public static KeyEncryptionKey ForUnknownAddresses(IdentityServerSettings settings) =>
        new(settings, "Shop.Identity unknown sign-in addresses v1"u8);

    public byte[] Hash(ReadOnlySpan<byte> data) => HMACSHA256.HashData(_key, data);

    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var sealedValue = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedValue.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(NonceSize, plaintext.Length),
            sealedValue.AsSpan(NonceSize + plaintext.Length), associatedData);
        return sealedValue;
    }

    /// <exception cref="CryptographicException">
    /// The value was sealed with another secret, for another kind of key or with other associated data, or it was altered.
    /// </exception>
    public byte[] Open(ReadOnlySpan<byte> sealedValue, ReadOnlySpan<byte> associatedData)
    {
        if (sealedValue.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The stored value is too short to hold a nonce and a tag.");
        }

        var plaintext = new byte[sealedValue.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedValue[..NonceSize], sealedValue.Slice(NonceSize, plaintext.Length),
            sealedValue[(NonceSize + plaintext.Length)..], plaintext, associatedData);
        return plaintext;
    }
}
