using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Middleware;

public static class UnreachableServices
{
    /// <summary>
    /// A service that cannot be reached (its process is down or restarting: the connection is refused, or no
    /// destination is left) is unavailable for now, not a bad gateway: the request gets 503 with <c>Retry-After</c>, as
    /// a service answers while its database is down, where YARP would answer 502 or a bare 503. A request that
    /// reached the service and lost it mid-answer keeps YARP's 502: whether it took effect is unknown, and only a
    /// client with an idempotency key can safely send it again. The status code pages write the problem body.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseUnreachableServiceAnswers(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        proxy.Use(async (context, next) =>
        {
            await next();
            if (!context.Response.HasStarted && context.GetForwarderErrorFeature() is { } failure && IsUnreachable(failure))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.SetUnavailableRetryAfter();
            }
        });
        return proxy;
    }

    private static bool IsUnreachable(IForwarderErrorFeature failure) => failure.Error switch
    {
        ForwarderError.NoAvailableDestinations => true,
        ForwarderError.Request => failure.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError },
        _ => false,
    };
}
