using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml;

namespace Products.Api.Pictures;

/// <summary>
/// A product's picture, drawn as SVG from its name, brand and category: every product has one, nothing is fetched
/// from elsewhere, and the same product always gets the same bytes (so its ETag is stable across replicas).
/// </summary>
public static class ProductPicture
{
    public const string ContentType = "image/svg+xml";

    private const int Size = 400;
    private const int MaxLineLength = 18;
    private const int MaxLines = 3;

    // A simple outline per category, drawn in the middle of a 400 x 400 canvas; anything else gets a circle.
    private static readonly Dictionary<string, string> Glyphs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Backpacks"] = "M150 120 h100 a30 30 0 0 1 30 30 v110 a20 20 0 0 1 -20 20 h-120 a20 20 0 0 1 -20 -20 v-110 a30 30 0 0 1 30 -30 z M170 120 v-20 a30 30 0 0 1 60 0 v20",
        ["Tents"] = "M200 100 L310 280 H90 Z M200 100 L200 280 M170 280 L200 200 L230 280",
        ["Sleeping Bags"] = "M140 110 a60 60 0 0 1 120 0 v150 a40 40 0 0 1 -40 40 h-40 a40 40 0 0 1 -40 -40 z M150 150 h100",
        ["Jackets"] = "M160 100 L120 130 L100 230 L135 235 L140 300 H260 L265 235 L300 230 L280 130 L240 100 Q200 130 160 100 Z M200 118 V300",
        ["Footwear"] = "M110 150 h60 l20 60 l90 25 a25 25 0 0 1 20 25 v20 H110 z",
        ["Climbing"] = "M80 290 L170 130 L210 200 L250 150 L320 290 Z M170 130 L185 160 L155 160 Z",
        ["Camp Kitchen"] = "M120 170 h160 v80 a40 40 0 0 1 -40 40 h-80 a40 40 0 0 1 -40 -40 z M280 190 h40 M150 150 q10 -20 0 -40 M200 150 q10 -20 0 -40 M250 150 q10 -20 0 -40",
        ["Lighting"] = "M200 100 a60 60 0 0 1 35 109 v31 h-70 v-31 a60 60 0 0 1 35 -109 z M170 260 h60 M180 280 h40",
        ["Hydration"] = "M200 95 C240 160 270 200 270 240 a70 70 0 0 1 -140 0 C130 200 160 160 200 95 Z",
        ["Accessories"] = "M130 130 h140 v140 h-140 z M130 180 h140 M200 130 v140",
    };

    /// <summary>The SVG document of a product's picture.</summary>
    public static string Render(int productId, string name, string brand, string category)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(brand);
        ArgumentNullException.ThrowIfNull(category);

        var hue = Hue(category);
        var accent = (hue + 40 + Hue(brand) % 60) % 360;
        var glyph = Glyphs.TryGetValue(category, out var path) ? path : "M200 110 a90 90 0 1 1 -0.1 0 z";
        var lines = Wrap(name);

        var svg = new StringBuilder(1024);
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Size}" height="{Size}" viewBox="0 0 {Size} {Size}" role="img" aria-label="{Escape(name)}">""");
        svg.Append(CultureInfo.InvariantCulture,
            $"""<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},45%,92%)"/><stop offset="1" stop-color="hsl({hue},45%,78%)"/></linearGradient></defs>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Size}" height="{Size}" fill="url(#bg)"/>""");
        svg.Append(CultureInfo.InvariantCulture,
            $"""<path d="{glyph}" transform="translate(0 -30)" fill="hsl({accent},55%,45%)" fill-opacity="0.25" stroke="hsl({accent},55%,30%)" stroke-width="6" stroke-linejoin="round" stroke-linecap="round"/>""");
        svg.Append(CultureInfo.InvariantCulture,
            $"""<text x="24" y="40" font-family="sans-serif" font-size="18" font-weight="700" fill="hsl({accent},40%,25%)">{Escape(brand.ToUpperInvariant())}</text>""");
        for (var i = 0; i < lines.Count; i++)
        {
            var y = 300 + (i * 28) - ((lines.Count - 1) * 4);
            svg.Append(CultureInfo.InvariantCulture,
                $"""<text x="200" y="{y}" text-anchor="middle" font-family="sans-serif" font-size="24" fill="hsl({hue},30%,20%)">{Escape(lines[i])}</text>""");
        }

        svg.Append(CultureInfo.InvariantCulture,
            $"""<text x="376" y="384" text-anchor="end" font-family="sans-serif" font-size="12" fill="hsl({hue},20%,35%)">#{productId}</text>""");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>A strong ETag of the picture: it changes exactly when the picture does.</summary>
    public static string ETag(string svg)
    {
        ArgumentNullException.ThrowIfNull(svg);
        return "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(svg)).AsSpan(0, 12)) + "\"";
    }

    /// <summary>The name over at most three lines, breaking between words; a longer name ends with an ellipsis.</summary>
    internal static List<string> Wrap(string name)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in name.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > MaxLineLength)
            {
                lines.Add(line.ToString());
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : "").Append(word);
        }

        if (line.Length > 0)
        {
            lines.Add(line.ToString());
        }

        if (lines.Count > MaxLines)
        {
            lines = lines[..MaxLines];
            lines[^1] += "…";
        }

        return lines;
    }

    /// <summary>A stable hue per name (string.GetHashCode differs between processes; the picture must not).</summary>
    private static int Hue(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % 360);
    }

    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            // Characters XML 1.0 cannot carry at all are dropped rather than breaking the document.
            if (XmlConvert.IsXmlChar(c) || char.IsSurrogate(c))
            {
                escaped.Append(c switch
                {
                    '&' => "&amp;",
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '"' => "&quot;",
                    '\'' => "&apos;",
                    _ => c.ToString(),
                });
            }
        }

        return escaped.ToString();
    }
}
