using System.Text;
using System.Xml.Linq;
using Identity.Api.Configuration;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Identity.Api.Keys;

/// <summary>
/// Encrypts the secret part of each data-protection key (its master key, which protects the sign-in cookie and the
/// antiforgery tokens) before it is stored in identitydb, with the key-encryption secret
/// (<see cref="IdentityServerSettings.KeyEncryptionSecret"/>, AES-256-GCM, a key of its own:
/// <see cref="KeyEncryptionKey.ForKeyRing"/>). A copy of identitydb alone then forges no cookie.
/// <see cref="KeyRingXmlDecryptor"/> reads it back.
/// </summary>
/// <remarks>
/// A stored master key is bound to its key's id (version 2: the id is the associated data), as the signing keys are,
/// so a value moved into another key's row does not decrypt. Data Protection hands an encryptor the master key alone,
/// without its key's id, so <see cref="Encrypt"/> makes the unbound version 1 and <see cref="Bind"/> binds it as the
/// key is stored (<see cref="KeyRingRepository"/>) or upgraded (<see cref="KeyRingUpgrade"/>).
/// </remarks>
public sealed class KeyRingXmlEncryptor : IXmlEncryptor
{
    internal static readonly XName EncryptedElementName = "encryptedKey";
    internal static readonly XName ValueElementName = "value";
    internal static readonly XName VersionAttributeName = "version";

    /// <summary>Not bound to a key id: what <see cref="Encrypt"/> makes, and what keys were stored with before binding.</summary>
    internal const string UnboundVersion = "1";

    /// <summary>Bound to the key's id.</summary>
    internal const string BoundVersion = "2";

    private readonly KeyEncryptionKey _key;

    public KeyRingXmlEncryptor(IOptions<IdentityServerSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _key = KeyEncryptionKey.ForKeyRing(settings.Value);
    }

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);

        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        return new EncryptedXmlInfo(Seal(plaintext, keyId: null), typeof(KeyRingXmlDecryptor));
    }

    /// <summary>
    /// Binds to <paramref name="key"/>'s id every master key stored in it unbound; a key whose master key is bound
    /// already, or that has none (a revocation), is left as it is.
    /// </summary>
    /// <returns>Whether anything was bound.</returns>
    /// <exception cref="System.Security.Cryptography.CryptographicException">An unbound master key does not decrypt.</exception>
    internal bool Bind(XElement key)
    {
        ArgumentNullException.ThrowIfNull(key);

        var unbound = KeyRingXml.OurEncryptedSecrets(key)
            .Where(e => e.Name == EncryptedElementName && (string?)e.Attribute(VersionAttributeName) == UnboundVersion)
            .ToList();
        if (unbound.Count == 0)
        {
            return false;
        }

        var keyId = KeyRingXml.KeyId(key)
            ?? throw new InvalidOperationException("A data-protection key to bind has no id.");
        foreach (var encryptedElement in unbound)
        {
            encryptedElement.ReplaceWith(Seal(KeyRingXmlDecryptor.Open(_key, encryptedElement, keyId), keyId));
        }

        return true;
    }

    private XElement Seal(byte[] plaintext, string? keyId) => new(EncryptedElementName,
        new XAttribute(VersionAttributeName, keyId is null ? UnboundVersion : BoundVersion),
        new XComment(keyId is null
            ? $" AES-256-GCM with a key derived from {IdentityServerSettings.SectionName}:KeyEncryptionSecret: base64 of nonce, ciphertext and tag. "
            : $" AES-256-GCM with a key derived from {IdentityServerSettings.SectionName}:KeyEncryptionSecret, the key's id as associated data: base64 of nonce, ciphertext and tag. "),
        new XElement(ValueElementName, Convert.ToBase64String(
            _key.Seal(plaintext, keyId is null ? [] : Encoding.UTF8.GetBytes(keyId)))));
}
