using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;

namespace Shop.Tests.Identity;

/// <summary>Reading and making JWTs by hand, so tests depend on nothing the services use to check them.</summary>
internal static class Jwt
{
    public static JsonElement Payload(string token) =>
        JsonDocument.Parse(Base64UrlDecode(token.Split('.')[1])).RootElement.Clone();

    public static JsonElement Header(string token) =>
        JsonDocument.Parse(Base64UrlDecode(token.Split('.')[0])).RootElement.Clone();

    public static IReadOnlyList<string> Audiences(string token) =>
        Payload(token).GetProperty("aud") is { ValueKind: JsonValueKind.Array } array
            ? [.. array.EnumerateArray().Select(a => a.GetString()!)]
            : [Payload(token).GetProperty("aud").GetString()!];

    /// <summary>The token with one character of its payload changed: same header and signature, other claims.</summary>
    public static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlDecode(parts[1]))!.AsObject();
        payload["name"] = "Mallory";
        return $"{parts[0]}.{Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.{parts[2]}";
    }

    /// <summary>
    /// Signs <paramref name="payload"/> with the identity service's current signing key, read from identitydb and
    /// decrypted with the AppHost's key-encryption secret, as anyone with that database and that secret could: a token
    /// exactly like the server's own, save what the test changes.
    /// </summary>
    public static async Task<string> SignWithServerKeyAsync(DistributedApplication app, JsonObject payload, CancellationToken cancellationToken)
    {
        var connectionString = await app.GetConnectionStringAsync("identitydb", cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """SELECT "Id", "EncryptedPrivateKey" FROM "SigningKeys" WHERE "Use" = 'Signing' ORDER BY "CreatedAt" DESC LIMIT 1""", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        Assert.True(await reader.ReadAsync(cancellationToken), "identitydb has no signing key.");
        var keyId = reader.GetString(0);
        var secret = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "identity-key-encryption-secret").Value;
        using var rsa = RSA.Create();
        rsa.ImportFromPem(DecryptPrivateKey(keyId, reader.GetString(1), secret));

        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = keyId, ["typ"] = "at+jwt" };
        var signingInput = Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncode(signature);
    }

    /// <summary>The stored format, <c>v1:</c> and base64 of nonce, ciphertext and tag, read by hand (AES-256-GCM, key from HKDF-SHA256).</summary>
    private static string DecryptPrivateKey(string keyId, string stored, string secret)
    {
        Assert.StartsWith("v1:", stored, StringComparison.Ordinal);
        var sealedValue = Convert.FromBase64String(stored["v1:".Length..]);
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, [], "Shop.Identity signing keys v1"u8.ToArray());
        var plaintext = new byte[sealedValue.Length - 12 - 16];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedValue.AsSpan(0, 12), sealedValue.AsSpan(12, plaintext.Length), sealedValue.AsSpan(12 + plaintext.Length), plaintext,
            Encoding.UTF8.GetBytes(keyId));
        return Encoding.UTF8.GetString(plaintext);
    }

    private static byte[] Base64UrlDecode(string value)
    {
        var padded = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
