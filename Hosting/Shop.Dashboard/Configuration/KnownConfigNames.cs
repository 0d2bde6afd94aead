namespace Shop.Dashboard.Configuration;

/// <summary>
/// Configuration names the dashboard reads. Where the Aspire dashboard documents a name for the same setting,
/// the same name is used so scripts and AppHosts written for Aspire work unchanged.
/// </summary>
public static class KnownConfigNames
{
    /// <summary>Frontend (browser UI and JSON API) addresses; standard ASP.NET Core setting.</summary>
    public const string FrontendUrls = "ASPNETCORE_URLS";

    /// <summary>OTLP/gRPC endpoint (HTTP/2 cleartext unless https).</summary>
    public const string OtlpGrpcEndpointUrl = "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL";
    public const string OtlpGrpcEndpointUrlAspire = "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL";

    /// <summary>OTLP/HTTP endpoint (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>).</summary>
    public const string OtlpHttpEndpointUrl = "DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL";
    public const string OtlpHttpEndpointUrlAspire = "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL";

    /// <summary>When true, both the frontend and OTLP run unsecured (Aspire's switch for local use).</summary>
    public const string UnsecuredAllowAnonymous = "DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS";
    public const string UnsecuredAllowAnonymousAspire = "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS";

    /// <summary>The options section; every key below it binds to <see cref="DashboardOptions"/>.</summary>
    public const string DashboardSection = "Dashboard";

    public const string DefaultFrontendUrl = "http://localhost:18888";
    public const string DefaultOtlpGrpcUrl = "http://localhost:18889";
    public const string DefaultOtlpHttpUrl = "http://localhost:18890";
}
