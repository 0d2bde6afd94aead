using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Shop.Hosting;
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
    /// Signs <paramref name="payload"/> with the identity service's current signing key, read from identitydb as
    /// anyone with access to that database could: a token exactly like the server's own, save what the test changes.
    /// </summary>
    public static async Task<string> SignWithServerKeyAsync(DistributedApplication app, JsonObject payload, CancellationToken cancellationToken)
    {
        var connectionString = await app.GetConnectionStringAsync("identitydb", cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """SELECT "Id", "PrivateKeyPem" FROM "SigningKeys" WHERE "Use" = 'Signing' ORDER BY "CreatedAt" DESC LIMIT 1""", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        Assert.True(await reader.ReadAsync(cancellationToken), "identitydb has no signing key.");
        var keyId = reader.GetString(0);
        using var rsa = RSA.Create();
        rsa.ImportFromPem(reader.GetString(1));

        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = keyId, ["typ"] = "at+jwt" };
        var signingInput = Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncode(signature);
    }

    private static byte[] Base64UrlDecode(string value)
    {
        var padded = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
