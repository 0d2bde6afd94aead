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
    /// The error of one encrypted master key that does not decrypt. Start-up checks every stored key first
    /// (<see cref="ThrowIfUnreadable"/>), so Data Protection itself meets it only for a key stored afterwards with
    /// another secret (by a replica started with it).
    /// </summary>
    internal const string CannotDecryptMessage =
        "A key of the data-protection key ring stored in identitydb (table DataProtectionKeys) cannot be decrypted: " +
        KeyEncryptionKey.SecretMismatchGuidance;

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

    /// <summary>
    /// Fails when a master key stored in <paramref name="key"/> does not decrypt with the configured secret, with one
    /// message saying so and how to recover. Data Protection would instead log an error for it on every attempt to
    /// read the key ring, leave it out, and make a new key with the wrong secret, unreadable again once the right
    /// secret is back.
    /// </summary>
    /// <exception cref="InvalidOperationException">A master key does not decrypt; the message holds no secret.</exception>
    internal void ThrowIfUnreadable(XElement key)
    {
        ArgumentNullException.ThrowIfNull(key);

        foreach (var encryptedElement in KeyRingXml.OurEncryptedSecrets(key))
        {
            try
            {
                Decrypt(encryptedElement);
            }
            catch (CryptographicException exception)
            {
                throw new InvalidOperationException(
                    $"The data-protection key {KeyRingXml.KeyId(key)} stored in identitydb (table DataProtectionKeys) cannot be " +
                    $"decrypted: {KeyEncryptionKey.SecretMismatchGuidance} Only if it is lost for good, delete the rows of the " +
                    "DataProtectionKeys table: a new key is then made, and everyone signed in must sign in again.",
                    exception);
            }
        }
    }
}
