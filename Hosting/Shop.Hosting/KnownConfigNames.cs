namespace Shop.Hosting;

/// <summary>Configuration keys the hosting layer reads, in one place.</summary>
public static class KnownConfigNames
{
    /// <summary>Where <c>WithDataVolume</c> data persists between runs (default: <c>.shop/data</c> beside the AppHost project).</summary>
    public const string DataDirectory = "AppHost:DataDirectory";

    /// <summary>Allocate a free port for every endpoint instead of the launch-profile ports (set by the testing builder).</summary>
    public const string RandomizePorts = "AppHost:RandomizePorts";

    /// <summary>Do not start the dashboard.</summary>
    public const string DisableDashboard = "AppHost:DisableDashboard";

    /// <summary>Seconds a resource gets to stop gracefully before it is killed.</summary>
    public const string ResourceStopTimeout = "AppHost:ResourceStopTimeoutSeconds";

    /// <summary>Directory holding <c>initdb</c> and <c>postgres</c> (default: the newest <c>/usr/lib/postgresql/*/bin</c>).</summary>
    public const string PostgresBinDirectory = "AppHost:Postgres:BinDirectory";

    /// <summary>
    /// Copy new PostgreSQL clusters from one initialised once per machine instead of running <c>initdb</c> each time
    /// (default <c>true</c>).
    /// </summary>
    public const string PostgresTemplateCache = "AppHost:Postgres:TemplateCache";

    /// <summary>
    /// Where that template cluster is kept (default: <c>~/.cache/shop/postgres-templates</c>, or
    /// <c>/var/tmp/shop/postgres-templates</c> when the AppHost runs as root and the server as <c>postgres</c>).
    /// </summary>
    public const string PostgresTemplateDirectory = "AppHost:Postgres:TemplateDirectory";

    /// <summary>Path of <c>redis-server</c> (default: found on PATH).</summary>
    public const string RedisServerPath = "AppHost:Redis:ServerPath";

    /// <summary>Publish instead of run: <c>--publisher kubernetes</c>.</summary>
    public const string Publisher = "Publishing:Publisher";

    /// <summary>Where a publisher writes (<c>--output-path</c>).</summary>
    public const string PublishOutputPath = "Publishing:OutputPath";

    /// <summary>Container registry and tag of the projects' images in published manifests.</summary>
    public const string PublishImageRegistry = "Publishing:ImageRegistry";

    public const string PublishImageTag = "Publishing:ImageTag";

    /// <summary>The OTLP endpoint published services export to (e.g. an OpenTelemetry collector in the cluster).</summary>
    public const string PublishOtlpEndpoint = "Publishing:OtlpEndpoint";

    /// <summary>Replicas of a resource that takes its count from configuration (<c>WithConfiguredReplicas</c>).</summary>
    public const string ReplicasSection = "Replicas";

    public const string ParametersSection = "Parameters";

    public const string ConnectionStringsSection = "ConnectionStrings";

    public static string Parameter(string name) => $"{ParametersSection}:{name}";

    public static string ConnectionString(string name) => $"{ConnectionStringsSection}:{name}";

    public static string Replicas(string name) => $"{ReplicasSection}:{name}";
}

/// <summary>The environment variables Aspire hands to resources, by name.</summary>
public static class KnownEnvironmentVariables
{
    public const string AspNetCoreUrls = "ASPNETCORE_URLS";
    public const string AspNetCoreEnvironment = "ASPNETCORE_ENVIRONMENT";
    public const string DotNetEnvironment = "DOTNET_ENVIRONMENT";
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string OtlpProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string OtlpHeaders = "OTEL_EXPORTER_OTLP_HEADERS";
    public const string OtelServiceName = "OTEL_SERVICE_NAME";
    public const string OtelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES";
    public const string OtelBatchSpanDelay = "OTEL_BSP_SCHEDULE_DELAY";
    public const string OtelBatchLogDelay = "OTEL_BLRP_SCHEDULE_DELAY";
    public const string OtelMetricExportInterval = "OTEL_METRIC_EXPORT_INTERVAL";
    public const string OtelTracesSampler = "OTEL_TRACES_SAMPLER";
    public const string ConsoleFormatter = "LOGGING__CONSOLE__FORMATTERNAME";
    public const string AllowAnsiRedirection = "DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION";
}
