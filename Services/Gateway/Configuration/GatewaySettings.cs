namespace Gateway.Configuration;

/// <summary>
/// Requests per fixed window, per signed-in user (the token's <c>sub</c>) or, for anonymous requests, per client IP.
/// Section <c>RateLimiting</c>; the AppHost sets it from its parameters.
/// </summary>
public sealed class RateLimitSettings
{
    public const string SectionName = "RateLimiting";

    public int PermitLimit { get; set; } = 100;

    /// <summary>Higher than a user's: many people can share one address (an office, a mobile carrier).</summary>
    public int AnonymousPermitLimit { get; set; } = 600;

    public int WindowSeconds { get; set; } = 10;
}

/// <summary>Section <c>RequestLimits</c>.</summary>
public sealed class RequestLimitSettings
{
    public const string SectionName = "RequestLimits";

    /// <summary>No API takes more than this; larger bodies are refused before they reach a service.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Section <c>ResponseCache</c>: the gateway's cache of tagged responses (the catalog's).</summary>
public sealed class ResponseCacheSettings
{
    public const string SectionName = "ResponseCache";

    public bool Enabled { get; set; } = true;

    /// <summary>A backstop only: invalidations, not expiry, keep cached responses current.</summary>
    public int ExpirationSeconds { get; set; } = 60;

    public int SizeLimitMegabytes { get; set; } = 32;

    /// <summary>Larger responses go through uncached (a catalog page of 100 products is about 30 KB).</summary>
    public int MaximumResponseKilobytes { get; set; } = 256;
}
