using System.Security.Cryptography;
using Identity.Api.Configuration;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Api.Keys;

/// <summary>
/// The server's RSA keys, kept in identitydb encrypted with the key-encryption secret (<see cref="SigningKeyProtector"/>):
/// made on the first start, replaced when older than <see cref="IdentityServerSettings.KeyRotationAge"/>, and published
/// until <see cref="IdentityServerSettings.KeyRetention"/> after that, so every token stays verifiable across restarts
/// and replicas until it expires.
/// </summary>
public sealed partial class SigningKeyStore(
    SigningKeyProtector protector,
    TimeProvider timeProvider,
    IOptions<IdentityServerSettings> settings,
    ILogger<SigningKeyStore> logger)
{
    private const int RsaKeySize = 2048;

    private IReadOnlyList<ServerKey>? _keys;

    /// <summary>The keys in use, newest first: the first of each kind signs or encrypts, all of them verify or decrypt.</summary>
    public IReadOnlyList<ServerKey> Keys => Volatile.Read(ref _keys)
        ?? throw new InvalidOperationException("The signing keys are read from identitydb at start-up, after its migration; they are not loaded yet.");

    /// <summary>
    /// Encrypts the keys still stored in plain text (written before keys were encrypted), loads those in use, and makes
    /// the keys that are missing or due for rotation. Runs at start-up inside the seeding transaction, whose advisory
    /// lock keeps replicas starting together from each making a key. A key in use that does not decrypt fails the
    /// start before anything is written: new keys in its place would silently invalidate every token it signed.
    /// </summary>
    public async Task EnsureKeysAsync(ApplicationDbContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        var now = timeProvider.GetUtcNow();
        var rotationAge = settings.Value.KeyRotationAge;
        var oldestInUse = now - rotationAge - settings.Value.KeyRetention;
        // One query: a handful of rows, two per rotation period.
        var stored = await context.SigningKeys
            .Where(k => k.CreatedAt > oldestInUse || !k.EncryptedPrivateKey.StartsWith(SigningKeyProtector.Prefix))
            .ToListAsync(cancellationToken);

        foreach (var key in stored.Where(k => !SigningKeyProtector.IsProtected(k.EncryptedPrivateKey)))
        {
            key.EncryptedPrivateKey = protector.Protect(key.Id, key.EncryptedPrivateKey);
            LogKeyEncrypted(logger, key.Use, key.Id);
        }

        var keys = stored.Where(k => k.CreatedAt > oldestInUse).Select(Load).ToList();
        foreach (var use in Enum.GetValues<SigningKeyUse>())
        {
            if (!keys.Any(k => k.Use == use && k.CreatedAt > now - rotationAge))
            {
                var key = Create(use, now);
                context.SigningKeys.Add(key);
                keys.Add(Load(key));
                LogKeyCreated(logger, use, key.Id);
            }
        }

        await context.SaveChangesAsync(cancellationToken);
        Volatile.Write(ref _keys, [.. keys.OrderByDescending(k => k.CreatedAt)]);
    }

    private ServerKey Load(SigningKey key)
    {
        string pem;
        try
        {
            pem = protector.Unprotect(key.Id, key.EncryptedPrivateKey);
        }
        catch (CryptographicException exception)
        {
            throw new InvalidOperationException(
                $"The {key.Use} key {key.Id} stored in identitydb cannot be decrypted: {KeyEncryptionKey.SecretMismatchGuidance} " +
                "Only if it is lost for good, delete the rows of the SigningKeys table: new keys are then made, and every " +
                "token and refresh token issued so far stops working.",
                exception);
        }

        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new ServerKey(key.Use, key.CreatedAt, new RsaSecurityKey(rsa) { KeyId = key.Id });
    }

    private SigningKey Create(SigningKeyUse use, DateTimeOffset now)
    {
        using var rsa = RSA.Create(RsaKeySize);
        var id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        return new SigningKey
        {
            Id = id,
            Use = use,
            EncryptedPrivateKey = protector.Protect(id, rsa.ExportPkcs8PrivateKeyPem()),
            CreatedAt = now,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created a new {Use} key {KeyId}")]
    private static partial void LogKeyCreated(ILogger logger, SigningKeyUse use, string keyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted the {Use} key {KeyId}, stored in plain text before keys were encrypted")]
    private static partial void LogKeyEncrypted(ILogger logger, SigningKeyUse use, string keyId);
}
