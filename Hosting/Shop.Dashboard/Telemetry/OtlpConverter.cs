using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry;

/// <summary>Turns OTLP values into the strings the store keeps, applying the attribute limits.</summary>
internal static class OtlpConverter
{
    /// <summary>Trace ids have 16 bytes, span ids 8: longer (invalid) ids are cut so they cannot grow the store.</summary>
    public static string ToHex(ByteString bytes) =>
        bytes.IsEmpty ? string.Empty : Convert.ToHexStringLower(bytes.Span[..Math.Min(bytes.Length, 16)]);

    /// <summary>
    /// The attributes as the store keeps them: a key given more than once keeps its last value, where it first
    /// appeared (as OpenTelemetry SDKs replace an attribute set again), and keys past the first
    /// <see cref="TelemetryLimitOptions.MaxAttributeCount"/> are dropped.
    /// </summary>
    public static KeyValuePair<string, string>[] ToAttributes(RepeatedField<KeyValue> attributes, TelemetryLimitOptions limits)
    {
        if (attributes.Count == 0)
        {
            return [];
        }

        var result = new List<KeyValuePair<string, string>>(Math.Min(attributes.Count, limits.MaxAttributeCount));
        var positions = new Dictionary<string, int>(result.Capacity, StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            var key = Truncate(attribute.Key, limits.MaxAttributeLength);
            if (positions.TryGetValue(key, out var position))
            {
                result[position] = new(key, Truncate(ToText(attribute.Value), limits.MaxAttributeLength));
            }
            else if (result.Count < limits.MaxAttributeCount)
            {
                positions.Add(key, result.Count);
                result.Add(new(key, Truncate(ToText(attribute.Value), limits.MaxAttributeLength)));
            }
        }

        return [.. result];
    }

    public static string ToText(AnyValue? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        return value.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => value.StringValue,
            AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
            AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString(CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
            AnyValue.ValueOneofCase.ArrayValue => FormatArray(value.ArrayValue),
            AnyValue.ValueOneofCase.KvlistValue => FormatList(value.KvlistValue),
            _ => string.Empty,
        };
    }

    public static string Truncate(string value, int maxLength) =>
        value.Length <= maxLength || maxLength <= 0 ? value : value[..maxLength];

    private static string FormatArray(ArrayValue array)
    {
        var builder = new StringBuilder("[");
        for (var i = 0; i < array.Values.Count; i++)
        {
            builder.Append(i == 0 ? "" : ", ").Append(ToText(array.Values[i]));
        }

        return builder.Append(']').ToString();
    }

    private static string FormatList(KeyValueList list)
    {
        var builder = new StringBuilder("{");
        for (var i = 0; i < list.Values.Count; i++)
        {
            builder.Append(i == 0 ? "" : ", ").Append(list.Values[i].Key).Append(": ").Append(ToText(list.Values[i].Value));
        }

        return builder.Append('}').ToString();
    }
}
