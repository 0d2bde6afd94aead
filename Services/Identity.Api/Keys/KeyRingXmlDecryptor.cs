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
/// <remarks>
/// Data Protection hands a decryptor the encrypted element alone, without its key's id: <see cref="KeyRingRepository"/>
/// writes the id of the key each element was read with into it (<see cref="KeyIdAttributeName"/>, never stored), and a
/// bound master key decrypts only with that id. Unbound ones (version 1) still decrypt: the next start binds them, and
/// until then an earlier version may still be writing them.
/// </remarks>
public sealed class KeyRingXmlDecryptor : IXmlDecryptor
{
    /// <summary>The error of one encrypted master key that does not decrypt; <see cref="ThrowIfUnreadable"/> says what to do about it.</summary>
    internal const string CannotDecryptMessage =
        "A key of the data-protection key ring stored in identitydb (table DataProtectionKeys) cannot be decrypted: " +
        KeyEncryptionKey.SecretMismatchGuidance;

    /// <summary>The id of the key an element was read with; set by <see cref="KeyRingRepository"/> as it reads, over anything stored there.</summary>
    internal static readonly XName KeyIdAttributeName = "keyId";

    private readonly KeyEncryptionKey _key;

    public KeyRingXmlDecryptor(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _key = KeyEncryptionKey.ForKeyRing(services.GetRequiredService<IOptions<IdentityServerSettings>>().Value);
    }

    /// <exception cref="CryptographicException">
    /// The key was stored with another secret or for another key, or altered; the message says what to do, without any secret.
    /// </exception>
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);

        return Parse(Open(_key, encryptedElement, (string?)encryptedElement.Attribute(KeyIdAttributeName)));
    }

    /// <summary>
    /// Fails when a master key stored in <paramref name="key"/> does not decrypt with the configured secret and the
    /// key's id, with one message saying so and how to recover. Data Protection would instead log an error for it on
    /// every attempt to read the key ring, leave it out, and make a new key with the wrong secret, unreadable again
    /// once the right secret is back.
    /// </summary>
    /// <exception cref="InvalidOperationException">A master key does not decrypt; the message holds no secret.</exception>
    internal void ThrowIfUnreadable(XElement key)
    {
        ArgumentNullException.ThrowIfNull(key);

        foreach (var encryptedElement in KeyRingXml.OurEncryptedSecrets(key))
        {
            try
            {
                Parse(Open(_key, encryptedElement, KeyRingXml.KeyId(key)));
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

    /// <summary>The plaintext of an <c>encryptedKey</c>: a bound one (version 2) opens only with <paramref name="keyId"/>.</summary>
    /// <exception cref="CryptographicException">It does not decrypt, or it is malformed; the message says what to do.</exception>
    internal static byte[] Open(KeyEncryptionKey key, XElement encryptedElement, string? keyId)
    {
        try
        {
            var version = (string?)encryptedElement.Attribute(KeyRingXmlEncryptor.VersionAttributeName);
            if (encryptedElement.Name != KeyRingXmlEncryptor.EncryptedElementName ||
                version is not (KeyRingXmlEncryptor.UnboundVersion or KeyRingXmlEncryptor.BoundVersion))
            {
                throw new CryptographicException(
                    $"The element is not a version {KeyRingXmlEncryptor.UnboundVersion} or {KeyRingXmlEncryptor.BoundVersion} <{KeyRingXmlEncryptor.EncryptedElementName}>.");
            }

            byte[] associatedData = [];
            if (version == KeyRingXmlEncryptor.BoundVersion)
            {
                associatedData = Encoding.UTF8.GetBytes(keyId ?? throw new CryptographicException("The key the element was read with is not known."));
            }

            var value = (string?)encryptedElement.Element(KeyRingXmlEncryptor.ValueElementName)
                ?? throw new CryptographicException($"The <{KeyRingXmlEncryptor.ValueElementName}> element is missing.");
            return key.Open(Convert.FromBase64String(value), associatedData);
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            throw new CryptographicException(CannotDecryptMessage, exception);
        }
    }

    private static XElement Parse(byte[] plaintext) => XElement.Parse(Encoding.UTF8.GetString(plaintext));
}
