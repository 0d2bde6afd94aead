using StackExchange.Redis;

namespace Products.Api.Caching;

/// <summary>How the catalog cache talks to Redis. The cache is optional: while Redis is unreachable it must cost nothing.</summary>
public static class CatalogCacheRedis
{
    /// <summary>
    /// The connection for <paramref name="connectionString"/>. It starts while Redis is down, and a command sent while
    /// it is disconnected fails at once instead of waiting in StackExchange.Redis's backlog for the whole timeout
    /// (5 s by default per command, several per read or change): HybridCache then reads the database straight away,
    /// and an invalidation is kept for a retry. The timeouts bound a Redis that accepts connections but does not answer.
    /// </summary>
    public static ConfigurationOptions Options(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 1000;
        options.AsyncTimeout = 1000;
        return options;
    }
}
