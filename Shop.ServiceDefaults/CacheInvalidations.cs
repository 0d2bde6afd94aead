namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The contract between a service that caches what it serves and the caches in front of it (its own other replicas,
/// the gateway's response cache):
/// <list type="bullet">
/// <item>A cache in front of a service says that it wants tags with <see cref="CapabilityHeader"/>:
/// <see cref="CapabilityValue"/> (the W3C Edge Architecture's way for a surrogate to announce what it can do). Then a
/// cacheable response names what it was made of in the <see cref="TagHeader"/> header, tags separated by spaces
/// (<c>catalog product:7 product:9</c>). A response without it is never kept by a shared cache. A tagged response is
/// the same for every caller, signed in or not, so a cache may keep it whatever credentials the request carried and
/// answer any caller with it (what RFC 9111, 3.5, asks an origin to declare before a shared cache stores a response to
/// a request with <c>Authorization</c>); anything that depends on who asks must go untagged. Requests no cache can
/// keep do not ask, and their responses carry no tags for anyone to copy and strip.</item>
/// <item>When data changes, the service publishes the tags it invalidates on the Redis channel <see cref="Channel"/>
/// as a <see cref="Format"/>ted message. Every subscriber drops what carries any of the tags, then publishes the
/// message's nonce on <see cref="AckChannelOf"/> the sender, so the writer can wait until every cache has
/// forgotten the old data before it answers.</item>
/// </list>
/// </summary>
public static class CacheInvalidations
{
    public const string Channel = "products:catalog-cache:invalidations";

    private const string AckChannelPrefix = "products:catalog-cache:acks:";

    /// <summary>Where <paramref name="sender"/> hears the acknowledgements of its invalidations.</summary>
    public static string AckChannelOf(string sender) => AckChannelPrefix + sender;

    /// <summary>Named after the CDN convention (Cloudflare's <c>Cache-Tag</c>); the gateway removes it before answering.</summary>
    public const string TagHeader = "Cache-Tag";

    public const string CapabilityHeader = "Surrogate-Capability";

    /// <summary>The capability a cache that understands <see cref="TagHeader"/> announces.</summary>
    private const string TagCapability = "Cache-Tag/1.0";

    public const string CapabilityValue = "shop-gateway=\"" + TagCapability + "\"";

    /// <summary>Whether the request comes from a cache that wants <see cref="TagHeader"/> on the response.</summary>
    public static bool WantsTags(IEnumerable<string?> capabilityHeader) =>
        capabilityHeader.Any(value => value?.Contains(TagCapability, StringComparison.Ordinal) == true);

    /// <summary>The text of an invalidation on the channel: sender, nonce, then one tag per line.</summary>
    public static string Format(string sender, string nonce, IEnumerable<string> tags) =>
        string.Join('\n', new[] { sender, nonce }.Concat(tags));

    public static bool TryParse(string? text, out string sender, out string nonce, out string[] tags)
    {
        var parts = text?.Split('\n') ?? [];
        if (parts.Length < 3 || parts.Take(2).Any(string.IsNullOrEmpty))
        {
            (sender, nonce, tags) = ("", "", []);
            return false;
        }

        (sender, nonce, tags) = (parts[0], parts[1], parts[2..]);
        return true;
    }

    /// <summary>The <see cref="TagHeader"/> value for <paramref name="tags"/>.</summary>
    public static string HeaderValue(IEnumerable<string> tags) => string.Join(' ', tags);

    /// <summary>The tags of a <see cref="TagHeader"/> value (all of its values, if it came more than once).</summary>
    public static string[] ParseHeader(IEnumerable<string?> values) =>
        [.. values.SelectMany(v => (v ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];
}
