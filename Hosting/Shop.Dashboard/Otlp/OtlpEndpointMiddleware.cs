using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Extensions;

namespace Shop.Dashboard.Otlp;

/// <summary>
/// Keeps each endpoint to its own traffic (OTLP never reaches the UI and vice versa), checks the OTLP API key and
/// bounds the exports read at once, all before a payload is read: a wrong or missing key is gRPC
/// <c>Unauthenticated</c> or HTTP 401; an export past the bound is gRPC <c>Unavailable</c> or HTTP 429, which OTLP
/// exporters retry.
/// </summary>
public sealed class OtlpEndpointMiddleware(RequestDelegate next, IOptions<DashboardOptions> options)
{
    public const string ApiKeyHeader = "x-otlp-api-key";

    private const string GrpcContentType = "application/grpc";
    private const string GrpcPathPrefix = "/opentelemetry.proto.collector.";

    // One bound for both transports: it caps the memory held by payloads being read (gRPC reads a message whole
    // before its handler runs, so the bound has to be taken here, ahead of the endpoint).
    private readonly SemaphoreSlim _exports = new(Math.Max(1, options.Value.Otlp.MaxConcurrentExports));

    public async Task InvokeAsync(HttpContext context)
    {
        var kind = context.Features.Get<DashboardEndpointFeature>()?.Kind ?? DashboardEndpointKind.Frontend;
        var path = context.Request.Path;

        // Routing ignores case, so these checks must too. The matched endpoint (routing runs before this
        // middleware) catches any other spelling that reaches a gRPC service.
        var isGrpcPath = path.Value?.StartsWith(GrpcPathPrefix, StringComparison.OrdinalIgnoreCase) == true
            || context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;
        var isHttpPath = path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase);
        switch (kind)
        {
            case DashboardEndpointKind.Frontend when isGrpcPath || isHttpPath:
            case DashboardEndpointKind.OtlpGrpc when !isGrpcPath:
            case DashboardEndpointKind.OtlpHttp when !isHttpPath:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            case DashboardEndpointKind.Frontend:
                await next(context);
                return;
        }

        if (!IsAuthorized(context.Request.Headers[ApiKeyHeader]))
        {
            await RejectAsync(context, kind, StatusCode.Unauthenticated, StatusCodes.Status401Unauthorized, "Unauthorized", $"Missing or wrong {ApiKeyHeader} header.");
            return;
        }

        if (!_exports.Wait(0))
        {
            // The OTLP spec's backpressure signals: gRPC Unavailable (exporters back off and retry), HTTP 429 with Retry-After.
            if (kind == DashboardEndpointKind.OtlpHttp)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await RejectAsync(context, kind, StatusCode.Unavailable, StatusCodes.Status429TooManyRequests, "Busy", "Too many OTLP exports at once; retry later.");
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            _exports.Release();
        }
    }

    private static Task RejectAsync(HttpContext context, DashboardEndpointKind kind, StatusCode grpcStatus, int httpStatus, string title, string detail)
    {
        if (kind == DashboardEndpointKind.OtlpGrpc)
        {
            // A trailers-only gRPC response: the status travels in the headers of an empty response.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = GrpcContentType;
            context.Response.Headers["grpc-status"] = ((int)grpcStatus).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = detail;
            return Task.CompletedTask;
        }

        return Results.Problem(detail, statusCode: httpStatus, title: title).ExecuteAsync(context);
    }

    private bool IsAuthorized(string? presented)
    {
        var otlp = options.Value.Otlp;
        if (otlp.AuthMode == OtlpAuthMode.Unsecured)
        {
            return true;
        }

        return !string.IsNullOrEmpty(presented) && (KeyEquals(presented, otlp.PrimaryApiKey) || KeyEquals(presented, otlp.SecondaryApiKey));
    }

    private static bool KeyEquals(string presented, string? expected) =>
        !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
