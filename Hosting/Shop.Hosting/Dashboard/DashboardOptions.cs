using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Dashboard;

/// <summary>
/// Where the dashboard listens and the secrets it shares with the AppHost, decided when the app is built so that
/// every resource's OTLP variables can point at it.
/// </summary>
internal sealed class DashboardOptions
{
    public const string UnsecuredKey = "AppHost:Dashboard:Unsecured";
    public const string FrontendPortKey = "AppHost:Dashboard:Port";
    public const string OtlpGrpcPortKey = "AppHost:Dashboard:OtlpGrpcPort";
    public const string OtlpHttpPortKey = "AppHost:Dashboard:OtlpHttpPort";
    public const string PersistTelemetryKey = "AppHost:Dashboard:PersistTelemetry";

    private DashboardOptions(IConfiguration configuration, bool randomize)
    {
        // Aspire's standalone defaults, so bookmarks keep working from run to run; a free port when taken.
        FrontendPort = PickPort(ConfiguredPort(configuration, FrontendPortKey), 18888, randomize);
        OtlpGrpcPort = PickPort(ConfiguredPort(configuration, OtlpGrpcPortKey), 18889, randomize);
        OtlpHttpPort = PickPort(ConfiguredPort(configuration, OtlpHttpPortKey), 18890, randomize);
        Unsecured = configuration.GetSetting(UnsecuredKey, false);
        PersistTelemetry = configuration.GetSetting(PersistTelemetryKey, false);
    }

    public int FrontendPort { get; }

    public int OtlpGrpcPort { get; }

    public int OtlpHttpPort { get; }

    /// <summary>No browser token: anyone who reaches the port sees the dashboard. An explicit choice for local use.</summary>
    public bool Unsecured { get; }

    public bool PersistTelemetry { get; }

    public string BrowserToken { get; } = NewSecret();

    public string OtlpApiKey { get; } = NewSecret();

    public string ResourceServiceApiKey { get; } = NewSecret();

    public string FrontendUrl => $"http://localhost:{FrontendPort}";

    public string OtlpGrpcUrl => $"http://localhost:{OtlpGrpcPort}";

    public string OtlpHttpUrl => $"http://localhost:{OtlpHttpPort}";

    public string LoginUrl => Unsecured ? FrontendUrl : $"{FrontendUrl}/login?t={BrowserToken}";

    /// <summary>Decides the dashboard's endpoints and tells every resource where to send telemetry.</summary>
    /// <param name="randomizePorts">The orchestrator's <c>AppHost:RandomizePorts</c>, already read and checked.</param>
    public static DashboardOptions? Configure(IConfiguration configuration, bool randomizePorts)
    {
        if (configuration.GetSetting(KnownConfigNames.DisableDashboard, false))
        {
            return null;
        }

        var options = new DashboardOptions(configuration, randomizePorts);
        configuration[DashboardConfigNames.OtlpGrpcEndpointUrl] = options.OtlpGrpcUrl;
        configuration[DashboardConfigNames.OtlpApiKey] = options.OtlpApiKey;
        return options;
    }

    /// <summary>A port the setting names, checked here: a dashboard told to listen on 99999 would only fail once started.</summary>
    private static int? ConfiguredPort(IConfiguration configuration, string key) => configuration.GetSetting<int?>(key, null) switch
    {
        null => null,
        >= 1 and <= 65535 and var port => port,
        var port => throw new DistributedApplicationException($"{key} is {port}, which is not a port (1 to 65535)."),
    };

    private static int PickPort(int? configured, int preferred, bool randomize) =>
        configured ?? (!randomize && PortAllocator.IsFree(preferred) ? preferred : PortAllocator.AllocateFreePort());

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
