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
public sealed class KeyRingXmlEncryptor : IXmlEncryptor
{
    internal static readonly XName EncryptedElementName = "encryptedKey";
    internal static readonly XName ValueElementName = "value";
    internal const string Version = "1";

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
        var encrypted = new XElement(EncryptedElementName,
            new XAttribute("version", Version),
            new XComment($" AES-256-GCM with a key derived from {IdentityServerSettings.SectionName}:KeyEncryptionSecret: base64 of nonce, ciphertext and tag. "),
            new XElement(ValueElementName, Convert.ToBase64String(_key.Seal(plaintext, associatedData: []))));
        return new EncryptedXmlInfo(encrypted, typeof(KeyRingXmlDecryptor));
    }
}
