using System.Security.Cryptography;
using System.Xml.Linq;
using Identity.Api.Configuration;
using Identity.Api.Keys;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Identity.Tests.Keys;

public sealed class KeyRingXmlEncryptorTests
{
    private const string Secret = "s3cretGeneratedByTheAppHost24";
    private const string OtherSecret = "anotherSecretOfTwentyFourChars";
    private const string MasterKey = "K4e9mMasterKeyValueInBase64+Ab3dHq7Zz9Q==";
    private const string KeyId = "0f8e7a52-3c1d-4b6e-9a2f-5d4c3b2a1e0f";
    private const string OtherKeyId = "7b2c9d14-8e3f-4a5b-b6c7-d8e9f0a1b2c3";

    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";

    // What Data Protection hands an encryptor: the element marked requiresEncryption inside a key's descriptor.
    private static readonly XElement MasterKeyElement = XElement.Parse(
        $"""<masterKey p4:requiresEncryption="true" xmlns:p4="http://schemas.asp.net/2015/03/dataProtection"><value>{MasterKey}</value></masterKey>""");

    [Fact]
    public void An_encrypted_master_key_shows_nothing_of_it_and_decrypts_back_to_the_same_element()
    {
        var encrypted = Encryptor(Secret).Encrypt(new XElement(MasterKeyElement));

        Assert.Equal(typeof(KeyRingXmlDecryptor), encrypted.DecryptorType);
        var stored = encrypted.EncryptedElement.ToString();
        Assert.DoesNotContain(MasterKey, stored, StringComparison.Ordinal);
        Assert.DoesNotContain("masterKey", stored, StringComparison.Ordinal);
        Assert.True(XNode.DeepEquals(MasterKeyElement, Decryptor(Secret).Decrypt(encrypted.EncryptedElement)));
    }

    [Fact]
    public void The_same_element_encrypted_twice_gives_two_values()
    {
        var encryptor = Encryptor(Secret);

        Assert.NotEqual(encryptor.Encrypt(MasterKeyElement).EncryptedElement.ToString(), encryptor.Encrypt(MasterKeyElement).EncryptedElement.ToString());
    }

    [Fact]
    public void Another_secret_does_not_decrypt_it_and_the_error_says_what_to_do_without_any_secret()
    {
        var encrypted = Encryptor(Secret).Encrypt(MasterKeyElement);

        var error = Assert.ThrowsAny<CryptographicException>(() => Decryptor(OtherSecret).Decrypt(encrypted.EncryptedElement));

        Assert.Contains("data-protection key ring stored in identitydb", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match the one the keys were stored with", error.Message, StringComparison.Ordinal);
        Assert.Contains("identity-key-encryption-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(OtherSecret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_altered_in_storage_does_not_decrypt()
    {
        var encrypted = new XElement(Encryptor(Secret).Encrypt(MasterKeyElement).EncryptedElement);
        var value = encrypted.Element("value")!;
        var bytes = Convert.FromBase64String(value.Value);
        bytes[^1] ^= 0x01;
        value.Value = Convert.ToBase64String(bytes);

        Assert.ThrowsAny<CryptographicException>(() => Decryptor(Secret).Decrypt(encrypted));
    }

    [Fact]
    public void A_bound_master_key_decrypts_only_when_read_with_its_own_key_id()
    {
        var key = Key(KeyId, Encryptor(Secret).Encrypt(new XElement(MasterKeyElement)));

        Assert.True(Encryptor(Secret).Bind(key));

        var encrypted = key.Descendants("encryptedKey").Single();
        Assert.Equal("2", (string?)encrypted.Attribute("version"));
        Assert.True(XNode.DeepEquals(MasterKeyElement, Decryptor(Secret).Decrypt(ReadWith(encrypted, KeyId))));
        Assert.ThrowsAny<CryptographicException>(() => Decryptor(Secret).Decrypt(ReadWith(encrypted, OtherKeyId)));
        Assert.ThrowsAny<CryptographicException>(() => Decryptor(Secret).Decrypt(new XElement(encrypted)));
        Assert.False(Encryptor(Secret).Bind(key));
    }

    [Fact]
    public void A_bound_master_key_moved_into_another_key_is_refused_by_the_start_up_check()
    {
        var key = Key(KeyId, Encryptor(Secret).Encrypt(new XElement(MasterKeyElement)));
        Encryptor(Secret).Bind(key);
        var moved = Key(OtherKeyId, new EncryptedXmlInfo(new XElement(key.Descendants("encryptedKey").Single()), typeof(KeyRingXmlDecryptor)));

        Decryptor(Secret).ThrowIfUnreadable(key);
        var error = Assert.Throws<InvalidOperationException>(() => Decryptor(Secret).ThrowIfUnreadable(moved));
        Assert.Contains(OtherKeyId, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<encryptedKey version="1"><value>not base64!</value></encryptedKey>""")]
    [InlineData("""<encryptedKey version="1" />""")]
    [InlineData("""<encryptedKey version="3"><value>AAAA</value></encryptedKey>""")]
    [InlineData("""<encryptedKey version="2"><value>AAAA</value></encryptedKey>""")]
    [InlineData("""<somethingElse />""")]
    public void A_malformed_element_fails_as_a_cryptographic_error(string element)
    {
        Assert.ThrowsAny<CryptographicException>(() => Decryptor(Secret).Decrypt(XElement.Parse(element)));
    }

    /// <summary>A data-protection key as Data Protection stores it, holding <paramref name="encrypted"/> as its master key.</summary>
    private static XElement Key(string id, EncryptedXmlInfo encrypted) =>
        new("key", new XAttribute("id", id), new XAttribute("version", "1"),
            new XElement("descriptor",
                new XElement("descriptor",
                    new XElement("encryption", new XAttribute("algorithm", "AES_256_CBC")),
                    new XElement("validation", new XAttribute("algorithm", "HMACSHA256")),
                    new XElement(DataProtectionNamespace + "encryptedSecret",
                        new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                        encrypted.EncryptedElement))));

    /// <summary>The element as Data Protection hands it to the decryptor, read by the repository from key <paramref name="keyId"/>.</summary>
    private static XElement ReadWith(XElement encrypted, string keyId)
    {
        var read = new XElement(encrypted);
        read.SetAttributeValue("keyId", keyId);
        return read;
    }

    private static KeyRingXmlEncryptor Encryptor(string secret) =>
        new(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }));

    /// <summary>As Data Protection creates it: from the service provider.</summary>
    private static KeyRingXmlDecryptor Decryptor(string secret) =>
        new(new ServiceCollection()
            .AddSingleton(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }))
            .BuildServiceProvider());
}
