using System.Globalization;
using System.Text;

namespace Shop.Hosting.Publishing;

/// <summary>
/// Writes the YAML subset Kubernetes manifests need: nested mappings and sequences of mappings or scalars.
/// Every string is double-quoted, so no value can change a document's structure.
/// </summary>
internal sealed class YamlWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;
    private bool _pendingListItem;

    public override string ToString() => _text.ToString();

    public YamlWriter DocumentSeparator()
    {
        _text.AppendLine("---");
        return this;
    }

    public YamlWriter Comment(string comment)
    {
        _text.Append(' ', _indent).Append("# ").AppendLine(comment);
        return this;
    }

    public YamlWriter Scalar(string key, string value) => Line($"{key}: {Quote(value)}");

    public YamlWriter Scalar(string key, int value) => Line($"{key}: {value.ToString(CultureInfo.InvariantCulture)}");

    public YamlWriter Scalar(string key, bool value) => Line($"{key}: {(value ? "true" : "false")}");

    public YamlWriter EmptyMap(string key) => Line($"{key}: {{}}");

    /// <summary>A nested mapping under <paramref name="key"/>.</summary>
    public YamlWriter Map(string key, Action<YamlWriter> body)
    {
        Line($"{key}:");
        _indent += 2;
        body(this);
        _indent -= 2;
        return this;
    }

    /// <summary>A sequence of mappings under <paramref name="key"/>; each item is written by <paramref name="item"/>.</summary>
    public YamlWriter Sequence<T>(string key, IEnumerable<T> items, Action<YamlWriter, T> item)
    {
        var list = items.ToList();
        if (list.Count == 0)
        {
            return Line($"{key}: []");
        }

        Line($"{key}:");
        _indent += 2;
        foreach (var value in list)
        {
            _pendingListItem = true;
            _indent += 2;
            item(this, value);
            _indent -= 2;
        }

        _indent -= 2;
        return this;
    }

    /// <summary>A sequence of strings under <paramref name="key"/>.</summary>
    public YamlWriter Strings(string key, IEnumerable<string> values)
    {
        var list = values.ToList();
        if (list.Count == 0)
        {
            return Line($"{key}: []");
        }

        Line($"{key}:");
        foreach (var value in list)
        {
            _text.Append(' ', _indent + 2).Append("- ").AppendLine(Quote(value));
        }

        return this;
    }

    public static string Quote(string value)
    {
        var escaped = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return escaped.Append('"').ToString();
    }

    private YamlWriter Line(string text)
    {
        if (_pendingListItem)
        {
            // The first line of a list item carries its dash, two columns left of the item's own indentation.
            _text.Append(' ', _indent - 2).Append("- ").AppendLine(text);
            _pendingListItem = false;
        }
        else
        {
            _text.Append(' ', _indent).AppendLine(text);
        }

        return this;
    }
}
