using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Identity.Api.Keys;

/// <summary>
/// Where Data Protection reads and writes the key ring: identitydb's DataProtectionKeys table, through EF Core's
/// repository. A key's master key is bound to the key's id as the key is stored (<see cref="KeyRingXmlEncryptor.Bind"/>),
/// and the id goes with it when it is read, for <see cref="KeyRingXmlDecryptor"/>. The key ring is handed over only
/// when every stored master key decrypts with the configured secret: start-up checks that first and stops
/// (<see cref="KeyRingUpgrade"/>); this keeps anything that reads the key ring anyway from seeing it without its keys,
/// since Data Protection would then make a new key with the wrong secret.
/// </summary>
internal sealed class KeyRingRepository(IXmlRepository stored, KeyRingXmlEncryptor encryptor, KeyRingXmlDecryptor decryptor) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = stored.GetAllElements();
        foreach (var element in elements)
        {
            decryptor.ThrowIfUnreadable(element);
            var keyId = KeyRingXml.KeyId(element);
            foreach (var encryptedElement in KeyRingXml.OurEncryptedSecrets(element))
            {
                encryptedElement.SetAttributeValue(KeyRingXmlDecryptor.KeyIdAttributeName, keyId);
            }
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);

        var bound = new XElement(element);
        encryptor.Bind(bound);
        stored.StoreElement(bound, friendlyName);
    }
}
