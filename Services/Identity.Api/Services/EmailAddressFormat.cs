using System.Buffers;
using System.Globalization;

namespace Identity.Api.Services;

/// <summary>
/// What registration accepts as an e-mail address: a plain mailbox as people type it, <c>ada@example.com</c>, in any
/// script. ASP.NET Core Identity's own check only wants one '@', and System.Net.Mail also reads display names and
/// quoted local parts; neither is an address anyone signs in with or that mail reliably reaches.
/// </summary>
public static class EmailAddressFormat
{
    /// <summary>The characters that need quoting in a local part (RFC 5322 "specials"); quoted local parts are refused.</summary>
    private static readonly SearchValues<char> LocalPartSpecials = SearchValues.Create("<>()[]\\,;:\"");

    public static bool IsWellFormed(string address)
    {
        ArgumentNullException.ThrowIfNull(address);

        if (address.Any(IsInvisible))
        {
            return false;
        }

        var parts = address.Split('@');
        if (parts is not [var local, var domain])
        {
            return false;
        }

        return HasNoEmptyDotParts(local)
            && local.AsSpan().IndexOfAny(LocalPartSpecials) < 0
            && domain.Contains('.', StringComparison.Ordinal)
            && domain.Split('.').All(IsDomainLabel);
    }

    /// <summary>No leading, trailing or doubled dot.</summary>
    private static bool HasNoEmptyDotParts(string text) => text.Split('.').All(part => part.Length > 0);

    /// <summary>Letters of any script (with their combining marks), digits, and hyphens inside; at most 63 characters.</summary>
    private static bool IsDomainLabel(string label) =>
        label.Length is > 0 and <= 63
        && label[0] != '-' && label[^1] != '-'
        && label.All(c => c == '-' || char.IsLetterOrDigit(c)
            || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark);

    private static bool IsInvisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
