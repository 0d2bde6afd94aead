using System.Net;
using System.Text.RegularExpressions;

namespace Shop.Tests.Identity;

/// <summary>
/// The first form of a server-rendered page, as a browser would submit it: its action and its fields (inputs
/// with a name; hidden ones included, such as antiforgery tokens and OpenIddict's form_post fields).
/// </summary>
internal sealed partial class HtmlForm
{
    private HtmlForm(string? action, Dictionary<string, string> fields)
    {
        Action = action;
        Fields = fields;
    }

    public string? Action { get; }

    public Dictionary<string, string> Fields { get; }

    public static HtmlForm Parse(string html, string? containing = null)
    {
        var forms = FormPattern().Matches(html).Where(m => containing is null || m.Value.Contains(containing, StringComparison.Ordinal)).ToList();
        if (forms.Count == 0)
        {
            throw new InvalidOperationException($"The page has no form{(containing is null ? "" : $" containing '{containing}'")}:\n{html}");
        }

        var form = forms[0];
        var action = AttributePattern("action").Match(form.Groups["open"].Value) is { Success: true } a ? WebUtility.HtmlDecode(a.Groups["value"].Value) : null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match input in InputPattern().Matches(form.Value))
        {
            if (AttributePattern("name").Match(input.Value) is { Success: true } name)
            {
                var value = AttributePattern("value").Match(input.Value);
                fields[WebUtility.HtmlDecode(name.Groups["value"].Value)] = value.Success ? WebUtility.HtmlDecode(value.Groups["value"].Value) : string.Empty;
            }
        }

        return new HtmlForm(action, fields);
    }

    /// <summary>The fields with <paramref name="values"/> filled in, ready to post.</summary>
    public FormUrlEncodedContent With(params (string Name, string Value)[] values)
    {
        var fields = new Dictionary<string, string>(Fields, StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            fields[name] = value;
        }

        return new FormUrlEncodedContent(fields);
    }

    /// <summary>The texts of the page's error list items, decoded.</summary>
    public static IReadOnlyList<string> Errors(string html)
    {
        var list = ErrorListPattern().Match(html);
        return list.Success
            ? [.. ListItemPattern().Matches(list.Value).Select(m => WebUtility.HtmlDecode(m.Groups["text"].Value).Trim())]
            : [];
    }

    [GeneratedRegex("""(?<open><form\b[^>]*>).*?</form>""", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex FormPattern();

    [GeneratedRegex("""<input\b[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex InputPattern();

    [GeneratedRegex("""<ul class="errors"[^>]*>.*?</ul>""", RegexOptions.Singleline)]
    private static partial Regex ErrorListPattern();

    [GeneratedRegex("""<li[^>]*>(?<text>.*?)</li>""", RegexOptions.Singleline)]
    private static partial Regex ListItemPattern();

    private static Regex AttributePattern(string attribute) =>
        new($"""\b{attribute}\s*=\s*"(?<value>[^"]*)"|\b{attribute}\s*=\s*'(?<value>[^']*)'""", RegexOptions.IgnoreCase);
}
