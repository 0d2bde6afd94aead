using System.Text;
using Microsoft.AspNetCore.Identity;

namespace Identity.Api.Services;

/// <summary>
/// The key an account is found and kept unique by: its address in Unicode compatibility form (NFKC), upper-cased.
/// Identity's own normalizer only upper-cases, so "jürgen@müller.example" typed with a combining diaeresis (as some
/// keyboards and copies from macOS send it) and with the precomposed ü, or "ＡＤＡ@example.com" in fullwidth letters,
/// were each an account of its own beside the address they look like.
/// </summary>
public sealed class UnicodeLookupNormalizer : ILookupNormalizer
{
    public string? NormalizeName(string? name) => Normalize(name);

    public string? NormalizeEmail(string? email) => Normalize(email);

    /// <summary>The form an address is stored in: composed (NFC), as typed otherwise; unchanged when it is not valid Unicode.</summary>
    public static string Compose(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return TryNormalize(address, NormalizationForm.FormC);
    }

    private static string? Normalize(string? key) => key is null ? null : TryNormalize(key, NormalizationForm.FormKC).ToUpperInvariant();

    // A lone surrogate cannot be normalized; such a key is left as it is (registration refuses it as malformed).
    private static string TryNormalize(string text, NormalizationForm form)
    {
        try
        {
            return text.Normalize(form);
        }
        catch (ArgumentException)
        {
            return text;
        }
    }
}
