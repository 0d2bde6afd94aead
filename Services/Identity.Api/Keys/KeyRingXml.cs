using System.Xml.Linq;

namespace Identity.Api.Keys;

/// <summary>
/// The parts of Data Protection's stored key format that identity reads and rewrites: a <c>&lt;key id="…"&gt;</c> whose
/// secret (its master key) is marked <c>requiresEncryption="true"</c> until an encryptor replaces it with an
/// <c>&lt;encryptedSecret decryptorType="…"&gt;</c> holding what the encryptor made.
/// </summary>
internal static class KeyRingXml
{
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";

    public static readonly XName KeyElementName = "key";
    public static readonly XName IdAttributeName = "id";
    public static readonly XName RequiresEncryptionAttributeName = DataProtectionNamespace + "requiresEncryption";
    public static readonly XName EncryptedSecretElementName = DataProtectionNamespace + "encryptedSecret";
    public static readonly XName DecryptorTypeAttributeName = "decryptorType";

    /// <summary>The secrets of <paramref name="key"/> still stored in plain text.</summary>
    public static List<XElement> PlainSecrets(XElement key) =>
        [.. key.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryptionAttributeName) == true)];

    /// <summary>What <see cref="KeyRingXmlEncryptor"/> stored in <paramref name="key"/>: the child of each of its <c>encryptedSecret</c>s.</summary>
    public static List<XElement> OurEncryptedSecrets(XElement key) =>
        [.. key.Descendants(EncryptedSecretElementName)
            .Where(e => IsOurDecryptor((string?)e.Attribute(DecryptorTypeAttributeName)))
            // An empty one is taken as is: it does not decrypt, as nothing stored there could.
            .Select(e => e.Elements().FirstOrDefault() ?? e)];

    /// <summary>The key's id as Data Protection wrote it (a GUID), or null for another kind of element (a revocation).</summary>
    public static string? KeyId(XElement element) =>
        element.Name == KeyElementName ? (string?)element.Attribute(IdAttributeName) : null;

    // Data Protection stores the assembly-qualified name; a version change of this assembly must not matter.
    private static bool IsOurDecryptor(string? typeName) =>
        typeName is not null && typeName.Split(',')[0].Trim() == typeof(KeyRingXmlDecryptor).FullName;
}
