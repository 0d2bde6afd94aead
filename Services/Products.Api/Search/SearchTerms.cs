using System.Text;

namespace Products.Api.Search;

/// <summary>
/// Turns what a shopper types into a PostgreSQL full-text query. Only letters and digits survive, so no input can
/// break <c>to_tsquery</c>'s syntax; every word must match, and matches as a prefix too ("jack" finds "jacket"),
/// which suits a search box that is queried as the shopper types.
/// </summary>
public static class SearchTerms
{
    /// <summary>At most this many words are used; the rest are ignored.</summary>
    public const int MaxTerms = 8;

    /// <summary>The words of <paramref name="search"/>, lower-cased, in order, without repeats.</summary>
    public static IReadOnlyList<string> Parse(string search)
    {
        ArgumentNullException.ThrowIfNull(search);

        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var c in search.Append(' '))
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
                continue;
            }

            if (word.Length > 0)
            {
                var term = word.ToString();
                if (!terms.Contains(term) && terms.Count < MaxTerms)
                {
                    terms.Add(term);
                }

                word.Clear();
            }
        }

        return terms;
    }

    /// <summary>The <c>to_tsquery</c> text: <c>word1:* &amp; word2:*</c>; empty when there is no word.</summary>
    public static string ToPrefixQuery(string search) => string.Join(" & ", Parse(search).Select(term => term + ":*"));

    /// <summary>The <c>to_tsquery</c> text of the last of <see cref="Parse"/>'s words alone, <c>word:*</c>: the shopper may still be typing it.</summary>
    public static string ToLastWordPrefixQuery(string search) => Parse(search) is [.., var last] ? last + ":*" : "";
}
