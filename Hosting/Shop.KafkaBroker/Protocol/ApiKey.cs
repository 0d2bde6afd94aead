namespace Shop.KafkaBroker.Protocol;

public enum ApiKey : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    DescribeGroups = 15,
    ListGroups = 16,
    SaslHandshake = 17,
    ApiVersions = 18,
    CreateTopics = 19,
    DeleteTopics = 20,
    InitProducerId = 22,
    OffsetForLeaderEpoch = 23,
    DescribeConfigs = 32,
    SaslAuthenticate = 36,
    CreatePartitions = 37,
    DeleteGroups = 42,
}

/// <summary>
/// The versions advertised in ApiVersions. All are non-flexible except ApiVersions v3 (librdkafka sends
/// it first), SaslAuthenticate v2 and ListGroups v3–4 (v4 is the first to report each group's state). Minimums are kept low so clients that
/// infer a broker release from the ranges (kafka-python) see a coherent picture.
/// </summary>
public static class SupportedApis
{
    public static readonly IReadOnlyList<(ApiKey Key, short Min, short Max)> All =
    [
        (ApiKey.Produce, 3, 8),
        (ApiKey.Fetch, 4, 11),
        (ApiKey.ListOffsets, 1, 5),
        (ApiKey.Metadata, 0, 8),
        (ApiKey.OffsetCommit, 2, 7),
        (ApiKey.OffsetFetch, 1, 5),
        (ApiKey.FindCoordinator, 0, 2),
        (ApiKey.JoinGroup, 0, 5),
        (ApiKey.Heartbeat, 0, 3),
        (ApiKey.LeaveGroup, 0, 3),
        (ApiKey.SyncGroup, 0, 3),
        (ApiKey.DescribeGroups, 0, 4),
        (ApiKey.ListGroups, 0, 4),
        (ApiKey.ApiVersions, 0, 3),
        (ApiKey.CreateTopics, 0, 4),
        (ApiKey.DeleteTopics, 0, 3),
        (ApiKey.InitProducerId, 0, 1),
        (ApiKey.OffsetForLeaderEpoch, 0, 2),
        (ApiKey.DescribeConfigs, 0, 1),
        (ApiKey.CreatePartitions, 0, 1),
        (ApiKey.DeleteGroups, 0, 1),
    ];

    /// <summary>Advertised only when the broker has users: SaslAuthenticate v2 is flexible.</summary>
    public static readonly IReadOnlyList<(ApiKey Key, short Min, short Max)> Sasl =
    [
        (ApiKey.SaslHandshake, 0, 1),
        (ApiKey.SaslAuthenticate, 0, 2),
    ];

    private static readonly (short Min, short Max)[] ByKey = BuildLookup();

    private static readonly IReadOnlyList<(ApiKey Key, short Min, short Max)> WithSasl = [.. All.Concat(Sasl).OrderBy(api => api.Key)];

    private static (short, short)[] BuildLookup()
    {
        var table = new (short, short)[64];
        Array.Fill(table, ((short)-1, (short)-1));
        foreach (var (key, min, max) in All)
        {
            table[(int)key] = (min, max);
        }

        return table;
    }

    /// <summary>Flexible versions use request header v2 and response header v1 (ApiVersions excepted).</summary>
    public static bool IsFlexible(short apiKey, short version) => (ApiKey)apiKey switch
    {
        ApiKey.ListGroups => version >= 3,
        ApiKey.SaslAuthenticate => version >= 2,
        _ => false,
    };

    public static bool IsKnown(short apiKey) => apiKey >= 0 && apiKey < ByKey.Length && ByKey[apiKey].Min >= 0;

    public static bool IsSupported(short apiKey, short version) =>
        IsKnown(apiKey) && version >= ByKey[apiKey].Min && version <= ByKey[apiKey].Max;

    public static bool IsSaslSupported(short apiKey, short version) =>
        Sasl.Any(api => (short)api.Key == apiKey && version >= api.Min && version <= api.Max);

    /// <summary>What ApiVersions lists: the SASL APIs too when authentication is on.</summary>
    public static IReadOnlyList<(ApiKey Key, short Min, short Max)> Advertised(bool sasl) => sasl ? WithSasl : All;
}
