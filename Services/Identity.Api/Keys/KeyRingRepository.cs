using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Identity.Api.Keys;

/// <summary>
/// Where Data Protection reads and writes the key ring: identitydb's DataProtectionKeys table, through EF Core's
/// repository, handed over only when every stored master key decrypts with the configured secret. Start-up checks that
/// first and stops (<see cref="KeyRingUpgrade"/>); this keeps anything that reads the key ring anyway from seeing it
/// without its keys, since Data Protection would then make a new key with the wrong secret.
/// </summary>
internal sealed class KeyRingRepository(IXmlRepository stored, KeyRingXmlDecryptor decryptor) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = stored.GetAllElements();
        foreach (var element in elements)
        {
            decryptor.ThrowIfUnreadable(element);
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName) => stored.StoreElement(element, friendlyName);
}
