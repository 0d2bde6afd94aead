using System.Security.Cryptography;
using System.Text;
using Identity.Api.Configuration;
using Identity.Api.Keys;
using Microsoft.Extensions.Options;

namespace Identity.Tests.Keys;

public sealed class SigningKeyProtectorTests
{
    private const string Secret = "s3cretGeneratedByTheAppHost24";
    private const string KeyId = "key-1";

    private static readonly string Pem = NewPem();

    [Fact]
    public void A_protected_key_shows_nothing_of_its_PEM_and_decrypts_back_to_it()
    {
        var protector = Protector(Secret);

        var stored = protector.Protect(KeyId, Pem);

        Assert.StartsWith(SigningKeyProtector.Prefix, stored, StringComparison.Ordinal);
        Assert.True(SigningKeyProtector.IsProtected(stored));
        Assert.DoesNotContain("PRIVATE KEY", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Pem.Split('\n')[1], stored, StringComparison.Ordinal);
        Assert.Equal(Pem, Protector(Secret).Unprotect(KeyId, stored));
    }

    [Fact]
    public void A_value_in_the_stored_format_made_by_hand_decrypts()
    {
        // The format stored since keys were first encrypted, spelt out here so that no change to the code can quietly
        // make the rows already in identitydb unreadable.
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(Secret), 32, [], "Shop.Identity signing keys v1"u8.ToArray());
        var plaintext = Encoding.UTF8.GetBytes(Pem);
        var sealedValue = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(sealedValue.AsSpan(0, 12));
        using (var aes = new AesGcm(key, 16))
        {
            aes.Encrypt(sealedValue.AsSpan(0, 12), plaintext, sealedValue.AsSpan(12, plaintext.Length),
                sealedValue.AsSpan(12 + plaintext.Length), Encoding.UTF8.GetBytes(KeyId));
        }

        Assert.Equal(Pem, Protector(Secret).Unprotect(KeyId, "v1:" + Convert.ToBase64String(sealedValue)));
    }

    [Fact]
    public void The_same_key_protected_twice_gives_two_values()
    {
        var protector = Protector(Secret);

        Assert.NotEqual(protector.Protect(KeyId, Pem), protector.Protect(KeyId, Pem));
    }

    [Fact]
    public void A_plain_PEM_is_recognised_as_not_protected()
    {
        Assert.False(SigningKeyProtector.IsProtected(Pem));
    }

    [Fact]
    public void Another_secret_does_not_decrypt_it()
    {
        var stored = Protector(Secret).Protect(KeyId, Pem);

        Assert.ThrowsAny<CryptographicException>(() => Protector("anotherSecretOfTwentyFourChars").Unprotect(KeyId, stored));
    }

    [Theory]
    [InlineData(0)] // the nonce
    [InlineData(40)] // the ciphertext
    [InlineData(-1)] // the tag
    public void A_value_altered_anywhere_does_not_decrypt(int position)
    {
        var protector = Protector(Secret);
        var stored = protector.Protect(KeyId, Pem);
        var bytes = Convert.FromBase64String(stored[SigningKeyProtector.Prefix.Length..]);
        bytes[position < 0 ? bytes.Length + position : position] ^= 0x01;

        var altered = SigningKeyProtector.Prefix + Convert.ToBase64String(bytes);

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(KeyId, altered));
    }

    [Fact]
    public void A_value_moved_to_another_key_does_not_decrypt()
    {
        var protector = Protector(Secret);
        var stored = protector.Protect(KeyId, Pem);

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect("key-2", stored));
    }

    [Theory]
    [InlineData("v1:not base64!")]
    [InlineData("v1:AAAA")]
    [InlineData("-----BEGIN PRIVATE KEY-----")]
    public void A_malformed_value_fails_as_a_cryptographic_error(string stored)
    {
        Assert.ThrowsAny<CryptographicException>(() => Protector(Secret).Unprotect(KeyId, stored));
    }

    internal static SigningKeyProtector Protector(string secret) =>
        new(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = secret }));

    private static string NewPem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }
}
