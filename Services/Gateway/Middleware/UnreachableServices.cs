using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Middleware;

/// <summary>
/// A service that cannot be reached (its process is down or restarting: the connection is refused, or no destination
/// is left) is unavailable for now, not a bad gateway: the request gets 503 with <c>Retry-After</c>, as a service
/// answers while its database is down, where YARP would answer 502 or a bare 503. A request that reached the service
/// and lost it mid-answer keeps YARP's 502: whether it took effect is unknown, and only a client with an idempotency
/// key can safely send it again. Applied by <see cref="ProblemStatusCodePages"/>, which also writes the problem body.
/// </summary>
public static class UnreachableServices
{
    /// <summary>Turns YARP's answer to an unreachable service into 503 with <c>Retry-After</c>; false for any other failure.</summary>
    public static bool TryAnswerUnavailable(HttpResponse response, IForwarderErrorFeature failure)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(failure);

        if (!IsUnreachable(failure))
        {
            return false;
        }

        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.SetUnavailableRetryAfter();
        return true;
    }

    /// <summary>The connection to the destination was refused or could not be made: nothing of the request was sent.</summary>
    public static bool NeverReachedService(IForwarderErrorFeature failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Error == ForwarderError.Request && IsRefusedConnection(failure.Exception);
    }

    /// <summary>The connection could not be made (refused, or no answer to connecting): a failure before anything was sent.</summary>
    public static bool IsRefusedConnection(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };

    private static bool IsUnreachable(IForwarderErrorFeature failure) =>
        failure.Error == ForwarderError.NoAvailableDestinations || NeverReachedService(failure);
}
