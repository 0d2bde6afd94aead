using System.Xml.Linq;
using Identity.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Identity.Api.Keys;

/// <summary>
/// Encrypts in place the data-protection keys stored in plain text before the key ring was encrypted. Letting them
/// expire would not be enough: Data Protection keeps protecting with its current key until shortly before the key
/// expires (90 days after it was made), and an expired key still unprotects, so its row would go on forging cookies for
/// anyone with a copy of identitydb. Encrypted in place, a key keeps its id and its master key: no session is lost.
/// </summary>
public sealed partial class KeyRingUpgrade(KeyRingXmlEncryptor encryptor, ILogger<KeyRingUpgrade> logger)
{
    // Data Protection's stored format: an element carrying requiresEncryption="true" is the secret to encrypt, and is
    // replaced by an <encryptedSecret> naming the decryptor, which Data Protection reads back.
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryptionAttributeName = DataProtectionNamespace + "requiresEncryption";
    private static readonly XName EncryptedSecretElementName = DataProtectionNamespace + "encryptedSecret";

    /// <summary>Runs at start-up inside the seeding transaction, whose advisory lock keeps replicas from doing it twice.</summary>
    public async Task EncryptPlainKeysAsync(ApplicationDbContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // A handful of rows: one key per 90 days.
        foreach (var row in await context.DataProtectionKeys.ToListAsync(cancellationToken))
        {
            if (row.Xml is null)
            {
                continue;
            }

            var element = XElement.Parse(row.Xml);
            var secrets = element.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryptionAttributeName) == true).ToList();
            foreach (var secret in secrets)
            {
                var encrypted = encryptor.Encrypt(new XElement(secret));
                secret.ReplaceWith(new XElement(EncryptedSecretElementName,
                    new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                    encrypted.EncryptedElement));
            }

            if (secrets.Count > 0)
            {
                row.Xml = element.ToString(SaveOptions.DisableFormatting);
                LogKeyEncrypted(logger, row.FriendlyName);
            }
        }

        await context.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted the data-protection key {Name}, stored in plain text before the key ring was encrypted")]
    private static partial void LogKeyEncrypted(ILogger logger, string? name);
}
