using System.Net;

namespace Payment.Api.Gateway;

/// <summary>
/// What the tries of one gateway call may have done, shared by those tries through the request's options (the
/// resilience pipeline sends the same request message on every retry).
/// </summary>
public sealed class GatewayTries
{
    private static readonly HttpRequestOptionsKey<GatewayTries> Key = new("Shop.Payment.GatewayTries");
    private int _mayHaveReachedGateway;

    /// <summary>True once any try went out to the gateway and was not answered with its documented "nothing done" (503).</summary>
    public bool MayHaveReachedGateway => Volatile.Read(ref _mayHaveReachedGateway) == 1;

    public static GatewayTries Track(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tries = new GatewayTries();
        request.Options.Set(Key, tries);
        return tries;
    }

    internal static GatewayTries? Of(HttpRequestMessage request) => request.Options.TryGetValue(Key, out var tries) ? tries : null;

    internal void MayHaveReached() => Volatile.Write(ref _mayHaveReachedGateway, 1);
}

/// <summary>
/// Sits inside the resilience pipeline, under the retry and the circuit breaker, so it sees each try that is actually
/// sent. A try that timed out, lost its connection or got any answer but 503 may have been acted on; a 503 is the
/// gateway's documented "nothing was done, retry with the same key" (see the simulator's README).
/// </summary>
public sealed class GatewayTryTracker : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tries = GatewayTries.Of(request);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch
        {
            tries?.MayHaveReached();
            throw;
        }

        if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
        {
            tries?.MayHaveReached();
        }

        return response;
    }
}
