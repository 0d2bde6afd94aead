using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Tests;

/// <summary>Answers like the products service's items-by-id endpoint, from an in-memory catalog.</summary>
internal sealed class FakeProductsHandler(params CatalogProduct[] catalog) : HttpMessageHandler
{
    public List<Uri> Requests { get; } = [];

    /// <summary>Every request is answered with this status.</summary>
    public HttpStatusCode? FailWith { get; init; }

    /// <summary>The first this many requests are answered 503, as by a products replica that is restarting.</summary>
    public int TransientFailures { get; init; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request.RequestUri!);
        if (FailWith is { } status)
        {
            return Task.FromResult(new HttpResponseMessage(status));
        }

        if (Requests.Count <= TransientFailures)
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        }

        var ids = request.RequestUri!.Query.TrimStart('?')
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .Where(pair => pair[0] == "ids")
            .Select(pair => int.Parse(pair[1]))
            .ToHashSet();

        var found = catalog.Where(p => ids.Contains(p.Id)).ToList();
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(found) });
    }

    public ProductsClient CreateClient() =>
        new(new HttpClient(this) { BaseAddress = ProductsClient.BaseAddress }, NullLogger<ProductsClient>.Instance);
}
