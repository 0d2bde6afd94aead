using System.Xml.Linq;
using Identity.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Api.Keys;

/// <summary>
/// Brings the stored data-protection keys up to date at start-up, before anything uses Data Protection. A key that does
/// not decrypt with the configured secret stops the start (<see cref="KeyRingXmlDecryptor.ThrowIfUnreadable"/>), before
/// anything is written. Keys stored in plain text before the key ring was encrypted are encrypted in place, and master
/// keys encrypted before they were bound to their key's id are bound (<see cref="KeyRingXmlEncryptor.Bind"/>). Letting
/// them expire would not be enough: Data Protection keeps protecting with its current key until shortly before the key
/// expires (90 days after it was made), and an expired key still unprotects, so its row would go on forging cookies for
/// anyone with a copy of identitydb. Upgraded in place, a key keeps its id and its master key: no session is lost.
/// </summary>
public sealed partial class KeyRingUpgrade(KeyRingXmlEncryptor encryptor, KeyRingXmlDecryptor decryptor, ILogger<KeyRingUpgrade> logger)
{
    /// <summary>Runs at start-up inside the seeding transaction, whose advisory lock keeps replicas from doing it twice.</summary>
    /// <exception cref="InvalidOperationException">A stored key does not decrypt with the configured secret.</exception>
    public async Task UpgradeAsync(ApplicationDbContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // A handful of rows: one key per 90 days.
        var rows = (await context.DataProtectionKeys.ToListAsync(cancellationToken))
            .Where(row => row.Xml is not null)
            .Select(row => (Row: row, Element: XElement.Parse(row.Xml!)))
            .ToList();
        foreach (var (_, element) in rows)
        {
            decryptor.ThrowIfUnreadable(element);
        }

        foreach (var (row, element) in rows)
        {
            var secrets = KeyRingXml.PlainSecrets(element);
            foreach (var secret in secrets)
            {
                var encrypted = encryptor.Encrypt(new XElement(secret));
                secret.ReplaceWith(new XElement(KeyRingXml.EncryptedSecretElementName,
                    new XAttribute(KeyRingXml.DecryptorTypeAttributeName, encrypted.DecryptorType.AssemblyQualifiedName!),
                    encrypted.EncryptedElement));
            }

            if (encryptor.Bind(element))
            {
                row.Xml = element.ToString(SaveOptions.DisableFormatting);
                if (secrets.Count > 0)
                {
                    LogKeyEncrypted(logger, row.FriendlyName);
                }
                else
                {
                    LogKeyBound(logger, row.FriendlyName);
                }
            }
        }

        await context.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted the data-protection key {Name}, stored in plain text before the key ring was encrypted")]
    private static partial void LogKeyEncrypted(ILogger logger, string? name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bound the master key of the data-protection key {Name} to its key id, stored unbound before")]
    private static partial void LogKeyBound(ILogger logger, string? name);
}
