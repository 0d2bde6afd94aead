using System.Security.Cryptography;
using System.Text;

namespace Shop.Hosting.Postgres;

/// <summary>
/// Remembers which password a persistent cluster's superuser was last given, as a salted SHA-256 digest in a file of
/// the data directory (never the password itself; the cluster's own <c>pg_authid</c> already holds a verifier of it).
/// A start whose password parameter still matches skips resetting it in single-user mode, a whole backend start and
/// checkpoint on the start's critical path. The stamp travels with the data directory, so a cluster restored from
/// elsewhere is reset as before.
/// </summary>
internal static class PostgresPasswordStamp
{
    private const string FileName = "shop-password.stamp";
    private const string Version = "v1";

    public static bool Matches(string dataDirectory, string password)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(dataDirectory, FileName)).Trim().Split(':');
            return parts is [Version, var saltHex, var digestHex]
                && CryptographicOperations.FixedTimeEquals(Digest(Convert.FromHexString(saltHex), password), Convert.FromHexString(digestHex));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Records <paramref name="password"/> as the superuser's current one, written aside and renamed into place; returns the stamp's path.</summary>
    public static string Write(string dataDirectory, string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var path = Path.Combine(dataDirectory, FileName);
        var staging = path + ".new";
        File.WriteAllText(staging, $"{Version}:{Convert.ToHexStringLower(salt)}:{Convert.ToHexStringLower(Digest(salt, password))}\n");
        File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(staging, path, overwrite: true);
        return path;
    }

    /// <summary>Forgets the stamp, before the password is changed: a reset cut short must not look finished.</summary>
    public static void Remove(string dataDirectory) => File.Delete(Path.Combine(dataDirectory, FileName));

    private static byte[] Digest(byte[] salt, string password) => SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(password)]);
}
