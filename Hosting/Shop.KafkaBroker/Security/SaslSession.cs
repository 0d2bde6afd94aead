namespace Shop.KafkaBroker.Security;

/// <summary>Where a connection is in the SASL exchange.</summary>
public enum SaslStage
{
    /// <summary>Nothing but ApiVersions and SaslHandshake is answered.</summary>
    Handshake,

    /// <summary>After SaslHandshake v1: the token comes in a SaslAuthenticate request.</summary>
    Authenticate,

    /// <summary>After SaslHandshake v0: the next frame is the bare SASL token, without a Kafka request header.</summary>
    LegacyToken,

    /// <summary>Every request is served, on behalf of <see cref="SaslSession.Principal"/>.</summary>
    Authenticated,
}

/// <summary>
/// One connection's authentication state. Only the connection's read loop touches it, one frame at a time, so it
/// needs no lock.
/// </summary>
public sealed class SaslSession(bool required)
{
    public SaslStage Stage { get; private set; } = required ? SaslStage.Handshake : SaslStage.Authenticated;

    /// <summary>The authenticated user; null when authentication is off or not done yet.</summary>
    public string? Principal { get; private set; }

    public bool IsAuthenticated => Stage == SaslStage.Authenticated;

    /// <summary>Set when the exchange failed: the connection is closed once the answer to this frame is sent.</summary>
    public string? CloseReason { get; private set; }

    public void HandshakeDone(short version) => Stage = version == 0 ? SaslStage.LegacyToken : SaslStage.Authenticate;

    public void Authenticated(string principal)
    {
        Principal = principal;
        Stage = SaslStage.Authenticated;
    }

    public void Fail(string reason) => CloseReason = reason;
}
