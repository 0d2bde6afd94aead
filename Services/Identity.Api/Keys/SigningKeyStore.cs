using System.Security.Cryptography;
using Identity.Api.Configuration;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Api.Keys;

/// <summary>
/// The server's RSA keys, kept in identitydb: made on the first start, replaced when older than
/// <see cref="IdentityServerSettings.KeyRotationAge"/>, and published until <see cref="IdentityServerSettings.KeyRetention"/>
/// after that, so every token stays verifiable across restarts and replicas until it expires.
/// </summary>
public sealed partial class SigningKeyStore(
    TimeProvider timeProvider,
    IOptions<IdentityServerSettings> settings,
    ILogger<SigningKeyStore> logger)
{
    private const int RsaKeySize = 2048;

    private IReadOnlyList<SigningKey>? _keys;

    /// <summary>The keys in use, newest first: the first of each kind signs or encrypts, all of them verify or decrypt.</summary>
    public IReadOnlyList<SigningKey> Keys => Volatile.Read(ref _keys)
        ?? throw new InvalidOperationException("The signing keys are read from identitydb at start-up, after its migration; they are not loaded yet.");

    /// <summary>
    /// Makes the keys that are missing or due for rotation, then loads those in use. Runs at start-up inside the
    /// seeding transaction, whose advisory lock keeps replicas starting together from each making a key.
    /// </summary>
    public async Task EnsureKeysAsync(ApplicationDbContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        var now = timeProvider.GetUtcNow();
        var rotationAge = settings.Value.KeyRotationAge;
        foreach (var use in Enum.GetValues<SigningKeyUse>())
        {
            var newest = await context.SigningKeys.Where(k => k.Use == use)
                .MaxAsync(k => (DateTimeOffset?)k.CreatedAt, cancellationToken);
            if (newest is null || newest <= now - rotationAge)
            {
                var key = Create(use, now);
                context.SigningKeys.Add(key);
                LogKeyCreated(logger, use, key.Id);
            }
        }

        await context.SaveChangesAsync(cancellationToken);

        var oldestInUse = now - rotationAge - settings.Value.KeyRetention;
        var keys = await context.SigningKeys.AsNoTracking()
            .Where(k => k.CreatedAt > oldestInUse)
            .OrderByDescending(k => k.CreatedAt)
            .ToListAsync(cancellationToken);
        Volatile.Write(ref _keys, keys);
    }

    /// <summary>The key as IdentityModel uses it, with its stored id as <c>kid</c>.</summary>
    public static RsaSecurityKey ToSecurityKey(SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);

        var rsa = RSA.Create();
        rsa.ImportFromPem(key.PrivateKeyPem);
        return new RsaSecurityKey(rsa) { KeyId = key.Id };
    }

    private static SigningKey Create(SigningKeyUse use, DateTimeOffset now)
    {
        using var rsa = RSA.Create(RsaKeySize);
        return new SigningKey
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            Use = use,
            PrivateKeyPem = rsa.ExportPkcs8PrivateKeyPem(),
            CreatedAt = now,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created a new {Use} key {KeyId}")]
    private static partial void LogKeyCreated(ILogger logger, SigningKeyUse use, string keyId);
}
