using System.Net;
using System.Net.Http;
using Microsoft.Extensions.ServiceDiscovery;

namespace Shop.ServiceDefaults;

/// <summary>
/// A call whose connection one replica refused (its process is down or restarting) never reached it, so it goes to
/// another replica of the service at once instead of failing. Service discovery hands out every replica's address,
/// a dead one included, in turn; left to the standard handler, every other call paid a retry's wait, and the failures
/// of the dead replica opened the client's one circuit breaker for the live replicas too. Only a refused connection
/// counts (nothing was sent), and only for a request without a body, which can be sent again as it is.
/// <para>
/// Two handlers around service discovery's own: <see cref="ServiceAddressRecorder"/>, outside it, notes the service's
/// address (<c>http://products</c>) before it is replaced by a replica's; <see cref="RefusedConnectionFailover"/>,
/// inside it, sees the replica's and tries the service's other replicas when it refuses.
/// </para>
/// </summary>
public static class ReplicaFailover
{
    internal static readonly HttpRequestOptionsKey<Uri> ServiceAddress = new("Shop.ServiceAddress");

    /// <summary>Whether the call never reached the server: its connection could not be made (refused, unreachable, timed out).</summary>
    internal static bool NeverReachedServer(HttpRequestException exception) => exception.HttpRequestError == HttpRequestError.ConnectionError;

    /// <summary>The URL of <paramref name="request"/> at <paramref name="endpoint"/>; null for an endpoint of a kind that has no host.</summary>
    internal static Uri? At(Uri request, EndPoint endpoint)
    {
        var (host, port) = endpoint switch
        {
            UriEndPoint uri => (uri.Uri.Host, uri.Uri.Port),
            DnsEndPoint dns => (dns.Host, dns.Port),
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => (null, 0),
        };
        return host is null ? null : new UriBuilder(request) { Host = host, Port = port > 0 ? port : request.Port }.Uri;
    }
}

/// <summary>Outside service discovery: notes the address the caller used (the service's), for <see cref="RefusedConnectionFailover"/>.</summary>
public sealed class ServiceAddressRecorder : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } address)
        {
            request.Options.Set(ReplicaFailover.ServiceAddress, address);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Inside service discovery: a refused connection to one replica is tried on the service's others, each once.</summary>
public sealed class RefusedConnectionFailover(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException refused) when (ReplicaFailover.NeverReachedServer(refused) && request.Content is null
            && request.RequestUri is { } replica && request.Options.TryGetValue(ReplicaFailover.ServiceAddress, out var service)
            && !string.Equals(service.Authority, replica.Authority, StringComparison.OrdinalIgnoreCase))
        {
            var others = await OtherReplicasAsync(service, replica, cancellationToken);
            foreach (var other in others)
            {
                request.RequestUri = other;
                try
                {
                    return await base.SendAsync(request, cancellationToken);
                }
                catch (HttpRequestException exception) when (ReplicaFailover.NeverReachedServer(exception))
                {
                    // This one refused too: the next.
                }
            }

            request.RequestUri = replica;
            throw;
        }
    }

    private async Task<List<Uri>> OtherReplicasAsync(Uri service, Uri refused, CancellationToken cancellationToken)
    {
        var source = await resolver.GetEndpointsAsync(service.GetLeftPart(UriPartial.Authority), cancellationToken);
        return [.. source.Endpoints
            .Select(endpoint => ReplicaFailover.At(refused, endpoint.EndPoint))
            .OfType<Uri>()
            .Where(uri => !string.Equals(uri.Authority, refused.Authority, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(uri => uri.Authority, StringComparer.OrdinalIgnoreCase)];
    }
}
