using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Shop.ServiceDefaults;

/// <summary>
/// Whether a text shows anything. <see cref="string.IsNullOrWhiteSpace"/> lets through names made only of zero-width
/// characters (U+200B, U+2060, U+FEFF are format characters, not white space) or of the Hangul fillers, which render
/// as nothing; a required name made of them would display as blank everywhere it is used.
/// </summary>
public static class VisibleText
{
    /// <summary>True when <paramref name="value"/> is null, empty, or only white space, control, format or filler characters.</summary>
    public static bool IsBlank([NotNullWhen(false)] string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        foreach (var character in value)
        {
            if (!IsInvisible(character))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsInvisible(char character) =>
        char.IsWhiteSpace(character)
        || character is '\u115F' or '\u1160' or '\u3164' or '\uFFA0' or '\u2800'
        || CharUnicodeInfo.GetUnicodeCategory(character) is UnicodeCategory.Format or UnicodeCategory.Control;
}
