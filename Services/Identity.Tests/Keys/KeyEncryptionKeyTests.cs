using System.Security.Cryptography;
using Identity.Api.Configuration;
using Identity.Api.Keys;

namespace Identity.Tests.Keys;

public sealed class KeyEncryptionKeyTests
{
    private static readonly IdentityServerSettings Settings = new() { KeyEncryptionSecret = "s3cretGeneratedByTheAppHost24" };

    [Fact]
    public void A_value_sealed_for_the_signing_keys_does_not_open_as_a_key_ring_value_nor_the_reverse()
    {
        var signingKeys = KeyEncryptionKey.ForSigningKeys(Settings);
        var keyRing = KeyEncryptionKey.ForKeyRing(Settings);
        byte[] plaintext = [1, 2, 3, 4];

        Assert.Equal(plaintext, signingKeys.Open(signingKeys.Seal(plaintext, []), []));
        Assert.Equal(plaintext, keyRing.Open(keyRing.Seal(plaintext, []), []));
        Assert.ThrowsAny<CryptographicException>(() => keyRing.Open(signingKeys.Seal(plaintext, []), []));
        Assert.ThrowsAny<CryptographicException>(() => signingKeys.Open(keyRing.Seal(plaintext, []), []));
    }

    [Fact]
    public void No_secret_is_refused_with_the_message_saying_how_to_set_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => KeyEncryptionKey.ForKeyRing(new IdentityServerSettings()));

        Assert.Equal(IdentityServerSettingsValidator.MissingSecretMessage, error.Message);
    }
}
