using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Security;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// Decodes the request header and hands the body to the API's handler. Every handler reads the whole
/// frame before its first await, so the frame buffer can be reused as soon as this call returns. When the broker has
/// users, a connection gets nothing but ApiVersions and the SASL exchange until it authenticated, as in Kafka.
/// </summary>
public sealed class RequestDispatcher(
    ProduceHandler produce,
    FetchHandler fetch,
    MetadataHandler metadata,
    AdminHandler admin,
    GroupHandler groups,
    SaslHandler sasl,
    BrokerSecurity security)
{
    public bool AuthenticationRequired => security.Enabled;

    public ValueTask<ResponseWriter?> DispatchAsync(byte[] frame, int length, string clientHost, SaslSession session, CancellationToken connectionClosed)
    {
        if (session.Stage == SaslStage.LegacyToken)
        {
            return ValueTask.FromResult(sasl.HandleLegacyToken(frame.AsSpan(0, length), session, clientHost));
        }

        var reader = new KafkaReader(frame.AsSpan(0, length));
        var apiKey = reader.ReadInt16();
        var version = reader.ReadInt16();
        var correlationId = reader.ReadInt32();
        var clientId = reader.ReadNullableString() ?? "";

        if (apiKey == (short)ApiKey.ApiVersions)
        {
            return ValueTask.FromResult<ResponseWriter?>(ApiVersionsHandler.Handle(ref reader, version, correlationId, security.Enabled));
        }

        if (security.Enabled && apiKey is (short)ApiKey.SaslHandshake or (short)ApiKey.SaslAuthenticate)
        {
            if (!SupportedApis.IsSaslSupported(apiKey, version))
            {
                throw new UnsupportedRequestException($"unsupported version {version} of API {(ApiKey)apiKey}");
            }

            if (SupportedApis.IsFlexible(apiKey, version))
            {
                reader.SkipTaggedFields();
            }

            var saslContext = new RequestContext(version, correlationId, clientId, clientHost, connectionClosed);
            return Done(apiKey == (short)ApiKey.SaslHandshake
                ? sasl.HandleHandshake(saslContext, session, ref reader)
                : sasl.HandleAuthenticate(saslContext, session, frame, ref reader));
        }

        if (!session.IsAuthenticated)
        {
            throw new UnauthenticatedRequestException(
                $"{(SupportedApis.IsKnown(apiKey) ? ((ApiKey)apiKey).ToString() : $"API key {apiKey}")} request before SASL authentication");
        }

        if (!SupportedApis.IsSupported(apiKey, version))
        {
            throw new UnsupportedRequestException(SupportedApis.IsKnown(apiKey)
                ? $"unsupported version {version} of API {(ApiKey)apiKey}"
                : $"unknown API key {apiKey}");
        }

        if (SupportedApis.IsFlexible(apiKey, version))
        {
            reader.SkipTaggedFields();
        }

        var context = new RequestContext(version, correlationId, clientId, clientHost, connectionClosed, session.Principal);
        return (ApiKey)apiKey switch
        {
            ApiKey.Produce => produce.Handle(context, frame, ref reader),
            ApiKey.Fetch => fetch.HandleFetch(context, ref reader),
            ApiKey.ListOffsets => Done(fetch.HandleListOffsets(context, ref reader)),
            ApiKey.OffsetForLeaderEpoch => Done(fetch.HandleOffsetForLeaderEpoch(context, ref reader)),
            ApiKey.Metadata => Done(metadata.Handle(context, ref reader)),
            ApiKey.CreateTopics => Done(admin.HandleCreateTopics(context, ref reader)),
            ApiKey.DeleteTopics => Done(admin.HandleDeleteTopics(context, ref reader)),
            ApiKey.CreatePartitions => Done(admin.HandleCreatePartitions(context, ref reader)),
            ApiKey.DescribeConfigs => Done(admin.HandleDescribeConfigs(context, ref reader)),
            ApiKey.InitProducerId => Done(admin.HandleInitProducerId(context, ref reader)),
            ApiKey.FindCoordinator => Done(groups.HandleFindCoordinator(context, ref reader)),
            ApiKey.JoinGroup => groups.HandleJoinGroup(context, ref reader),
            ApiKey.SyncGroup => groups.HandleSyncGroup(context, ref reader),
            ApiKey.Heartbeat => Done(groups.HandleHeartbeat(context, ref reader)),
            ApiKey.LeaveGroup => Done(groups.HandleLeaveGroup(context, ref reader)),
            ApiKey.OffsetCommit => groups.HandleOffsetCommit(context, ref reader),
            ApiKey.OffsetFetch => Done(groups.HandleOffsetFetch(context, ref reader)),
            ApiKey.ListGroups => Done(groups.HandleListGroups(context, ref reader)),
            ApiKey.DescribeGroups => Done(groups.HandleDescribeGroups(context, ref reader)),
            ApiKey.DeleteGroups => groups.HandleDeleteGroups(context, ref reader),
            _ => throw new UnsupportedRequestException($"unknown API key {apiKey}"),
        };
    }

    private static ValueTask<ResponseWriter?> Done(ResponseWriter response) => ValueTask.FromResult<ResponseWriter?>(response);
}
