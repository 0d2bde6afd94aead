namespace Identity.Api.Model;

/// <summary>
/// The failed sign-ins of an e-mail address that has no account, counted as ASP.NET Core Identity counts an account's
/// (<c>AccessFailedCount</c>, <c>LockoutEnd</c>) so that such an address gets the same answers; see
/// <c>UnknownAddressLockout</c>. Shared by every replica.
/// </summary>
public class UnknownAddressFailure
{
    public const int AddressHashLength = 43;

    /// <summary>
    /// The normalized address, keyed-hashed (HMAC-SHA256, base64url): what is typed into the address field, sometimes a
    /// password, is never stored.
    /// </summary>
    public required string AddressHash { get; set; }

    /// <summary>Failures since the last lockout; back to zero when it locks.</summary>
    public int FailedCount { get; set; }

    public DateTimeOffset? LockoutEnd { get; set; }

    /// <summary>The row is forgotten a while after this (<c>UnknownAddressLockout.Memory</c>), so the table stays small.</summary>
    public DateTimeOffset LastFailureAt { get; set; }
}
