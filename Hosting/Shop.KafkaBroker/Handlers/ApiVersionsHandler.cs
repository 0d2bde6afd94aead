using Shop.KafkaBroker.Protocol;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// ApiVersions: v3 is the one flexible version the broker speaks (request header v2, compact arrays).
/// The response header is always v0. A version above 3 gets a v0 body with UNSUPPORTED_VERSION, so the
/// client retries with one it shares. SaslHandshake and SaslAuthenticate are listed only when the broker has users.
/// </summary>
public static class ApiVersionsHandler
{
    public const short MaxVersion = 3;

    public static ResponseWriter Handle(ref KafkaReader reader, short version, int correlationId, bool sasl)
    {
        var response = new ResponseWriter(correlationId, 512);
        if (version > MaxVersion || version < 0)
        {
            response.WriteInt16(ErrorCode.UnsupportedVersion);
            response.WriteArrayCount(1);
            response.WriteInt16((short)ApiKey.ApiVersions);
            response.WriteInt16(0);
            response.WriteInt16(MaxVersion);
            return response;
        }

        if (version >= 3)
        {
            reader.SkipTaggedFields();
            reader.ReadCompactNullableString();
            reader.ReadCompactNullableString();
            reader.SkipTaggedFields();
        }

        response.WriteInt16(ErrorCode.None);
        var apis = SupportedApis.Advertised(sasl);
        if (version >= 3)
        {
            response.WriteUnsignedVarInt((uint)apis.Count + 1);
        }
        else
        {
            response.WriteArrayCount(apis.Count);
        }

        foreach (var (key, min, max) in apis)
        {
            response.WriteInt16((short)key);
            response.WriteInt16(min);
            response.WriteInt16(max);
            if (version >= 3)
            {
                response.WriteEmptyTaggedFields();
            }
        }

        if (version >= 1)
        {
            response.WriteInt32(0);
        }

        if (version >= 3)
        {
            response.WriteEmptyTaggedFields();
        }

        return response;
    }
}
