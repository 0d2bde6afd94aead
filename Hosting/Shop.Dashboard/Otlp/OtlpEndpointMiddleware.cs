using System.Security.Cryptography;
using System.Text;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Extensions;

namespace Shop.Dashboard.Otlp;

/// <summary>
/// Keeps each endpoint to its own traffic (OTLP never reaches the UI and vice versa) and checks the OTLP API key
/// before a payload is read: a wrong or missing key is gRPC <c>Unauthenticated</c> or HTTP 401.
/// </summary>
public sealed class OtlpEndpointMiddleware(RequestDelegate next, IOptions<DashboardOptions> options)
{
    public const string ApiKeyHeader = "x-otlp-api-key";

    private const string GrpcContentType = "application/grpc";
    private const string GrpcPathPrefix = "/opentelemetry.proto.collector.";

    public Task InvokeAsync(HttpContext context)
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
                return Task.CompletedTask;
            case DashboardEndpointKind.Frontend:
                return next(context);
        }

        if (IsAuthorized(context.Request.Headers[ApiKeyHeader]))
        {
            return next(context);
        }

        if (kind == DashboardEndpointKind.OtlpGrpc)
        {
            // A trailers-only gRPC response: the status travels in the headers of an empty response.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = GrpcContentType;
            context.Response.Headers["grpc-status"] = "16";
            context.Response.Headers["grpc-message"] = $"Missing or wrong {ApiKeyHeader} header.";
            return Task.CompletedTask;
        }

        return Results.Problem($"Missing or wrong {ApiKeyHeader} header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized")
            .ExecuteAsync(context);
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
