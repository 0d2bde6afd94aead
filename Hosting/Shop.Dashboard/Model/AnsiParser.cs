using System.Globalization;
using System.Net;
using System.Text;

namespace Shop.Dashboard.Model;

/// <summary>One console line, as HTML with ANSI colours turned into CSS classes, and as plain text for search.</summary>
public sealed record ConsoleLineViewModel(long LineNumber, DateTimeOffset Timestamp, string PlainText, string Html, bool IsStdErr);

/// <summary>
/// Renders ANSI SGR sequences (colours, bright colours, 256-colour and true-colour, bold, italic, underline) as
/// HTML spans. Text is HTML-encoded; other control sequences (cursor movement, erase) are dropped, and so is an escape
/// that starts no complete sequence.
/// </summary>
public static class AnsiParser
{
    private const char Escape = '\u001b';

    public static ConsoleLineViewModel ToViewModel(long lineNumber, DateTimeOffset timestamp, string text, bool isStdErr)
    {
        var (plain, html) = Parse(text);
        return new(lineNumber, timestamp, plain, html, isStdErr);
    }

    public static (string PlainText, string Html) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains(Escape))
        {
            return (text, WebUtility.HtmlEncode(text));
        }

        var plain = new StringBuilder(text.Length);
        var html = new StringBuilder(text.Length + 32);
        var style = new AnsiStyle();
        var spanOpen = false;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == Escape)
            {
                // An escape that starts no complete sequence (one cut off at the end of the line, say) is dropped
                // alone: a terminal never prints it, and the text after it is still the line's.
                var end = SequenceEnd(text, i);
                if (end < 0)
                {
                    i++;
                    continue;
                }

                if (text[end] == 'm')
                {
                    style.Apply(text.AsSpan(i + 2, end - i - 2));
                    if (spanOpen)
                    {
                        html.Append("</span>");
                        spanOpen = false;
                    }

                    if (style.ToAttributes() is { } attributes)
                    {
                        html.Append("<span ").Append(attributes).Append('>');
                        spanOpen = true;
                    }
                }

                i = end + 1;
                continue;
            }

            var next = text.IndexOf(Escape, i);
            var chunk = next < 0 ? text[i..] : text[i..next];
            plain.Append(chunk);
            html.Append(WebUtility.HtmlEncode(chunk));
            i = next < 0 ? text.Length : next;
        }

        if (spanOpen)
        {
            html.Append("</span>");
        }

        return (plain.ToString(), html.ToString());
    }

    /// <summary>
    /// The index of the final byte of the control sequence (ESC [, parameter and intermediate bytes 0x20–0x3F, a final
    /// byte 0x40–0x7E) that starts at <paramref name="start"/>, or -1 when none does.
    /// </summary>
    private static int SequenceEnd(string text, int start)
    {
        if (start + 1 >= text.Length || text[start + 1] != '[')
        {
            return -1;
        }

        var end = start + 2;
        while (end < text.Length && text[end] is >= ' ' and <= '?')
        {
            end++;
        }

        return end < text.Length && text[end] is >= '@' and <= '~' ? end : -1;
    }

    private sealed class AnsiStyle
    {
        private string? _foreground;
        private string? _background;
        private bool _bold;
        private bool _italic;
        private bool _underline;

        public void Apply(ReadOnlySpan<char> parameters)
        {
            var codes = parameters.Length == 0 ? [0] : ParseCodes(parameters);
            for (var i = 0; i < codes.Count; i++)
            {
                var code = codes[i];
                switch (code)
                {
                    case 0:
                        _foreground = _background = null;
                        _bold = _italic = _underline = false;
                        break;
                    case 1: _bold = true; break;
                    case 3: _italic = true; break;
                    case 4: _underline = true; break;
                    case 22: _bold = false; break;
                    case 23: _italic = false; break;
                    case 24: _underline = false; break;
                    case >= 30 and <= 37: _foreground = $"class:fg-{code - 30}"; break;
                    case >= 90 and <= 97: _foreground = $"class:fg-{code - 90 + 8}"; break;
                    case 39: _foreground = null; break;
                    case >= 40 and <= 47: _background = $"class:bg-{code - 40}"; break;
                    case >= 100 and <= 107: _background = $"class:bg-{code - 100 + 8}"; break;
                    case 49: _background = null; break;
                    case 38 or 48:
                        var color = ExtendedColor(codes, ref i, code == 38 ? "fg" : "bg");
                        if (code == 38)
                        {
                            _foreground = color;
                        }
                        else
                        {
                            _background = color;
                        }

                        break;
                }
            }
        }

        public string? ToAttributes()
        {
            var classes = new List<string>();
            var styles = new List<string>();
            Add(_foreground, "ansi-", "color", classes, styles);
            Add(_background, "ansi-", "background-color", classes, styles);
            if (_bold)
            {
                classes.Add("ansi-bold");
            }

            if (_italic)
            {
                classes.Add("ansi-italic");
            }

            if (_underline)
            {
                classes.Add("ansi-underline");
            }

            if (classes.Count == 0 && styles.Count == 0)
            {
                return null;
            }

            var attributes = new StringBuilder();
            if (classes.Count > 0)
            {
                attributes.Append("class=\"").AppendJoin(' ', classes).Append('"');
            }

            if (styles.Count > 0)
            {
                attributes.Append(attributes.Length > 0 ? " " : "").Append("style=\"").AppendJoin(';', styles).Append('"');
            }

            return attributes.ToString();
        }

        private static void Add(string? color, string classPrefix, string property, List<string> classes, List<string> styles)
        {
            if (color is null)
            {
                return;
            }

            if (color.StartsWith("class:", StringComparison.Ordinal))
            {
                classes.Add(classPrefix + color["class:".Length..]);
            }
            else
            {
                styles.Add($"{property}:{color}");
            }
        }

        private static string? ExtendedColor(List<int> codes, ref int i, string kind)
        {
            if (i + 2 < codes.Count && codes[i + 1] == 5)
            {
                var index = codes[i + 2];
                i += 2;
                return index < 16 ? $"class:{kind}-{index}" : Xterm256(index);
            }

            if (i + 4 < codes.Count && codes[i + 1] == 2)
            {
                var color = $"rgb({Clamp(codes[i + 2])},{Clamp(codes[i + 3])},{Clamp(codes[i + 4])})";
                i += 4;
                return color;
            }

            return null;
        }

        private static string Xterm256(int index)
        {
            if (index is >= 232 and <= 255)
            {
                var gray = 8 + ((index - 232) * 10);
                return $"rgb({gray},{gray},{gray})";
            }

            var cube = Math.Clamp(index, 16, 231) - 16;
            static int Level(int v) => v == 0 ? 0 : 55 + (v * 40);
            return $"rgb({Level(cube / 36)},{Level(cube / 6 % 6)},{Level(cube % 6)})";
        }

        private static int Clamp(int value) => Math.Clamp(value, 0, 255);

        private static List<int> ParseCodes(ReadOnlySpan<char> parameters)
        {
            var codes = new List<int>();
            foreach (var range in parameters.Split(';'))
            {
                codes.Add(int.TryParse(parameters[range], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0);
            }

            return codes;
        }
    }
}
