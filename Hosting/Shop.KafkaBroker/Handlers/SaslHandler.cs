using System.Text;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Security;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// SaslHandshake v0–1 and SaslAuthenticate v0–2 with the PLAIN mechanism (RFC 4616: <c>[authzid] NUL user NUL
/// password</c>). As in Kafka, a failed exchange is answered (UNSUPPORTED_SASL_MECHANISM with the enabled mechanisms,
/// SASL_AUTHENTICATION_FAILED with a message, ILLEGAL_SASL_STATE out of order) and then the connection is closed.
/// After a v0 handshake the token comes as a bare frame and success is a bare empty frame; failure just closes.
/// </summary>
public sealed partial class SaslHandler(BrokerSecurity security, ILogger<SaslHandler> logger)
{
    private const string InvalidCredentials = "Authentication failed: Invalid username or password";

    public ResponseWriter HandleHandshake(RequestContext context, SaslSession session, ref KafkaReader reader)
    {
        var mechanism = reader.ReadString();
        short error;
        switch (session.Stage)
        {
            case SaslStage.Authenticated:
                // Re-authentication is not supported; the connection stays as it is.
                error = ErrorCode.IllegalSaslState;
                break;
            case SaslStage.Handshake when mechanism == BrokerSecurity.PlainMechanism:
                error = ErrorCode.None;
                session.HandshakeDone(context.ApiVersion);
                break;
            case SaslStage.Handshake:
                error = ErrorCode.UnsupportedSaslMechanism;
                session.Fail($"unsupported SASL mechanism '{mechanism}' (enabled: {string.Join(", ", BrokerSecurity.Mechanisms)})");
                break;
            default:
                error = ErrorCode.IllegalSaslState;
                session.Fail("a second SaslHandshake during authentication");
                break;
        }

        var response = new ResponseWriter(context.CorrelationId, 64);
        response.WriteInt16(error);
        response.WriteArrayCount(BrokerSecurity.Mechanisms.Count);
        foreach (var enabled in BrokerSecurity.Mechanisms)
        {
            response.WriteString(enabled);
        }

        return response;
    }

    public ResponseWriter HandleAuthenticate(RequestContext context, SaslSession session, byte[] frame, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var (start, length) = version >= 2 ? reader.ReadCompactBytesRange() : reader.ReadBytesRange();
        if (version >= 2)
        {
            reader.SkipTaggedFields();
        }

        string? message;
        short error;
        if (session.Stage == SaslStage.Authenticate)
        {
            message = Verify(start < 0 ? [] : frame.AsSpan(start, length), session, context.ClientHost);
            error = message is null ? ErrorCode.None : ErrorCode.SaslAuthenticationFailed;
        }
        else
        {
            error = ErrorCode.IllegalSaslState;
            message = session.IsAuthenticated
                ? "The connection is already authenticated (re-authentication is not supported)."
                : "SaslAuthenticate must follow a SaslHandshake v1 request.";
            if (!session.IsAuthenticated)
            {
                session.Fail("SaslAuthenticate without a SaslHandshake v1 before it");
            }
        }

        var response = new ResponseWriter(context.CorrelationId, 96);
        if (version >= 2)
        {
            response.WriteEmptyTaggedFields();
        }

        response.WriteInt16(error);
        if (version >= 2)
        {
            response.WriteCompactNullableString(message);
            response.WriteCompactBytes([]);
        }
        else
        {
            response.WriteNullableString(message);
            response.WriteBytes([]);
        }

        if (version >= 1)
        {
            // 0: the session does not expire (no re-authentication).
            response.WriteInt64(0);
        }

        if (version >= 2)
        {
            response.WriteEmptyTaggedFields();
        }

        return response;
    }

    /// <summary>The token that follows a SaslHandshake v0: success is an empty frame, failure closes the connection.</summary>
    public ResponseWriter? HandleLegacyToken(ReadOnlySpan<byte> token, SaslSession session, string clientHost) =>
        Verify(token, session, clientHost) is null ? ResponseWriter.RawFrame([]) : null;

    /// <summary>Checks a PLAIN token; null when it authenticates the session, else the message for the client.</summary>
    private string? Verify(ReadOnlySpan<byte> token, SaslSession session, string clientHost)
    {
        var first = token.IndexOf((byte)0);
        var second = first < 0 ? -1 : token[(first + 1)..].IndexOf((byte)0);
        string? user = null;
        string? problem;
        if (first < 0 || second < 0 || token[(first + 1 + second + 1)..].Contains((byte)0))
        {
            problem = $"Invalid SASL/PLAIN response: expected 3 tokens separated by NUL, got {token.Count((byte)0) + 1}";
        }
        else
        {
            var authorizationId = Encoding.UTF8.GetString(token[..first]);
            user = Encoding.UTF8.GetString(token.Slice(first + 1, second));
            var password = token[(first + 1 + second + 1)..];
            problem = user.Length == 0 ? "Authentication failed: username not specified"
                : password.IsEmpty ? "Authentication failed: password not specified"
                : authorizationId.Length > 0 && authorizationId != user ? "Authentication failed: Client requested an authorization id that is different from username"
                : !security.Authenticate(user, password) ? InvalidCredentials
                : null;
        }

        if (problem is null)
        {
            session.Authenticated(user!);
            LogAuthenticated(logger, user!, clientHost);
            return null;
        }

        LogFailed(logger, user ?? "(unreadable)", clientHost, problem);
        session.Fail("SASL authentication failed");
        return problem;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "SASL/PLAIN: {User} authenticated from {ClientHost}")]
    private static partial void LogAuthenticated(ILogger logger, string user, string clientHost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SASL/PLAIN authentication of user {User} from {ClientHost} failed: {Problem}")]
    private static partial void LogFailed(ILogger logger, string user, string clientHost, string problem);
}
