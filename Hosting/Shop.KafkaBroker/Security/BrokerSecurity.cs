using System.Security.Cryptography;
using System.Text;
using Shop.KafkaBroker.Configuration;

namespace Shop.KafkaBroker.Security;

/// <summary>
/// The broker's users and write ACLs. With no users configured the listener is open (PLAINTEXT) and everyone may do
/// everything; with users it is SASL_PLAINTEXT with the PLAIN mechanism: a connection must authenticate before any
/// request but ApiVersions, and a principal writes only to the topics it is granted. Reading, consumer groups and
/// creating topics are open to every authenticated principal.
/// </summary>
public sealed class BrokerSecurity
{
    public const string PlainMechanism = "PLAIN";

    private readonly Dictionary<string, (BrokerUser User, byte[] PasswordHash)> _users;

    // Compared against when the user is unknown, so that an unknown name takes as long as a wrong password.
    private readonly byte[] _unknownUserHash = SHA256.HashData(RandomNumberGenerator.GetBytes(32));

    public BrokerSecurity(BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _users = options.Users.ToDictionary(
            u => u.Name,
            u => (u, SHA256.HashData(Encoding.UTF8.GetBytes(u.Password))),
            StringComparer.Ordinal);
    }

    /// <summary>Whether clients must authenticate (some users are configured).</summary>
    public bool Enabled => _users.Count > 0;

    public static IReadOnlyList<string> Mechanisms { get; } = [PlainMechanism];

    public int UserCount => _users.Count;

    /// <summary>
    /// Checks a user name and password. The password is compared as a SHA-256 digest in constant time, and an unknown
    /// user costs the same comparison, so timing tells neither a password's prefix nor which names exist.
    /// </summary>
    public bool Authenticate(string userName, ReadOnlySpan<byte> password)
    {
        var known = _users.TryGetValue(userName, out var entry);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(password, hash);
        var matches = CryptographicOperations.FixedTimeEquals(hash, known ? entry.PasswordHash : _unknownUserHash);
        return known && matches;
    }

    /// <summary>
    /// Whether <paramref name="principal"/> may write to <paramref name="topic"/>: produce to it, delete it or add
    /// partitions to it. Always true when authentication is off.
    /// </summary>
    public bool CanWrite(string? principal, string topic)
    {
        if (!Enabled)
        {
            return true;
        }

        if (principal is null || !_users.TryGetValue(principal, out var entry))
        {
            return false;
        }

        var user = entry.User;
        return user.SuperUser || user.Write.Any(pattern => pattern.Matches(topic));
    }
}
