using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Identity.Api.Configuration;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Identity.Api.Keys;

/// <summary>
/// Decrypts what <see cref="KeyRingXmlEncryptor"/> stored. Data Protection creates it from the type name written in
/// the key's XML, through the one constructor it looks for: public, taking the <see cref="IServiceProvider"/>. That
/// name is stored with every key: renaming or moving this class makes the stored keys unreadable.
/// </summary>
public sealed class KeyRingXmlDecryptor : IXmlDecryptor
{
    /// <summary>
    /// Data Protection logs this (as the error of the key element it could not read) and leaves the key out: cookies and
    /// antiforgery tokens it protected are refused, and a new key is made if it was the current one.
    /// </summary>
    internal const string CannotDecryptMessage =
        "A key of the data-protection key ring stored in identitydb (table DataProtectionKeys) cannot be decrypted: " +
        KeyEncryptionKey.SecretMismatchGuidance + " Until then, sign-in cookies and antiforgery tokens protected with it " +
        "are refused, so users sign in again. Only if the secret is lost for good, delete the rows that do not decrypt: " +
        "they can never be read again.";

    private readonly KeyEncryptionKey _key;

    public KeyRingXmlDecryptor(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _key = KeyEncryptionKey.ForKeyRing(services.GetRequiredService<IOptions<IdentityServerSettings>>().Value);
    }

    /// <exception cref="CryptographicException">
    /// The key was stored with another secret, or altered; the message says what to do, without any secret.
    /// </exception>
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);

        byte[] plaintext;
        try
        {
            if (encryptedElement.Name != KeyRingXmlEncryptor.EncryptedElementName ||
                (string?)encryptedElement.Attribute("version") != KeyRingXmlEncryptor.Version)
            {
                throw new CryptographicException($"The element is not a version {KeyRingXmlEncryptor.Version} <{KeyRingXmlEncryptor.EncryptedElementName}>.");
            }

            var value = (string?)encryptedElement.Element(KeyRingXmlEncryptor.ValueElementName)
                ?? throw new CryptographicException($"The <{KeyRingXmlEncryptor.ValueElementName}> element is missing.");
            plaintext = _key.Open(Convert.FromBase64String(value), associatedData: []);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            throw new CryptographicException(CannotDecryptMessage, exception);
        }

        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
