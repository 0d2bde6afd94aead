namespace Identity.Api.Model;

/// <summary>
/// An RSA key of the authorization server, kept in identitydb so that tokens issued before a restart (or by
/// another replica) stay verifiable and decryptable.
/// </summary>
public class SigningKey
{
    /// <summary>The JWK <c>kid</c>: tokens name the key that signed them.</summary>
    public required string Id { get; set; }

    public SigningKeyUse Use { get; set; }

    /// <summary>
    /// The PKCS#8 PEM of the private key, encrypted with the key-encryption secret (<c>v1:…</c>, see
    /// <c>SigningKeyProtector</c>). A row written before keys were encrypted holds the plain PEM until the
    /// next start encrypts it.
    /// </summary>
    public required string EncryptedPrivateKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum SigningKeyUse
{
    /// <summary>Signs tokens (access and identity tokens are JWS).</summary>
    Signing,

    /// <summary>Encrypts the tokens only the server reads back (authorization codes, refresh tokens).</summary>
    Encryption,
}
