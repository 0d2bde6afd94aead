using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.FluentUI.AspNetCore.Components;
using Shop.Dashboard.Apis;
using Shop.Dashboard.Authentication;
using Shop.Dashboard.Components;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Contracts;
using Shop.Dashboard.Otlp;
using Shop.Dashboard.ResourceService;
using Shop.Dashboard.Telemetry;
using Shop.Dashboard.Telemetry.Persistence;

namespace Shop.Dashboard.Extensions;

public static class DashboardExtensions
{
    private const string FrontendAuthModeKey = $"{KnownConfigNames.DashboardSection}:Frontend:AuthMode";
    private const string OtlpAuthModeKey = $"{KnownConfigNames.DashboardSection}:Otlp:AuthMode";

    /// <summary>Registers everything the dashboard runs: endpoints, OTLP receivers, stores, auth, UI and resource service client.</summary>
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var endpoints = DashboardEndpoints.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(endpoints);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            kestrel.ConfigureEndpointDefaults(endpoints.ConfigureEndpoint);
        });

        builder.Services.AddOptions<DashboardOptions>()
            .Bind(builder.Configuration.GetSection(KnownConfigNames.DashboardSection))
            .PostConfigure(options => ApplyDefaults(options, builder.Configuration))
            .Validate(o => o.Otlp.AuthMode != OtlpAuthMode.ApiKey || !string.IsNullOrEmpty(o.Otlp.PrimaryApiKey),
                "Dashboard:Otlp:AuthMode is ApiKey but Dashboard:Otlp:PrimaryApiKey is not set.")
            .Validate(o => o.TelemetryLimits is { MaxLogCount: > 0, MaxLogCountPerResource: > 0, MaxTraceCount: > 0, MaxSpanCount: > 0, MaxSpanCountPerResource: > 0, MaxSpansPerTrace: > 0, MaxMetricsCount: > 0, MaxMetricsCountPerResource: > 0 },
                "Every Dashboard:TelemetryLimits value must be positive.")
            .ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddTelemetryStore();
        builder.Services.AddGrpc(options => options.MaxReceiveMessageSize = 64 * 1024 * 1024);
        builder.Services.AddDashboardAuthentication(endpoints.Frontend[0].Port);
        builder.Services.AddResourceServiceClient();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddFluentUIComponents();
        builder.Services.AddHostedService<LoginUrlAnnouncer>();
        builder.Services.AddHostedService<ParentProcessWatcher>();

        return builder;
    }

    /// <summary>Maps the OTLP receivers, the login and JSON APIs, and the UI.</summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The frontend and both OTLP endpoints are bound as server addresses (ASPNETCORE_URLS alone names only the frontend).
        app.Urls.Clear();
        foreach (var url in app.Services.GetRequiredService<DashboardEndpoints>().Urls)
        {
            app.Urls.Add(url);
        }

        // In every environment (the AppHost runs the dashboard in Development): the developer exception page would
        // show stack traces and echo request headers, the browser token among them.
        app.UseExceptionHandler();
        app.UseMiddleware<OtlpEndpointMiddleware>();

        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapGrpcService<OtlpGrpcTraceService>();
        app.MapGrpcService<OtlpGrpcLogsService>();
        app.MapGrpcService<OtlpGrpcMetricsService>();
        app.MapOtlpHttpApi();

        app.MapLoginApi();
        app.MapTelemetryApi();
        app.MapResourcesApi();

        app.MapStaticAssets();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .RequireAuthorization(DashboardAuthenticationDefaults.Policy);

        return app;
    }

    private static void ApplyDefaults(DashboardOptions options, IConfiguration configuration)
    {
        var allowAnonymous = configuration[KnownConfigNames.UnsecuredAllowAnonymous] ?? configuration[KnownConfigNames.UnsecuredAllowAnonymousAspire];
        if (bool.TryParse(allowAnonymous, out var anonymous) && anonymous)
        {
            // An auth mode set explicitly (the AppHost sets both) wins over the blanket switch, which may be inherited.
            if (string.IsNullOrEmpty(configuration[FrontendAuthModeKey]))
            {
                options.Frontend.AuthMode = FrontendAuthMode.Unsecured;
            }

            if (string.IsNullOrEmpty(configuration[OtlpAuthModeKey]))
            {
                options.Otlp.AuthMode = OtlpAuthMode.Unsecured;
            }
        }

        if (options.Frontend.AuthMode == FrontendAuthMode.BrowserToken && string.IsNullOrEmpty(options.Frontend.BrowserToken))
        {
            options.Frontend.BrowserToken = RandomNumberGenerator.GetHexString(32, lowercase: true);
        }
    }

    private static IServiceCollection AddTelemetryStore(this IServiceCollection services)
    {
        services.AddSingleton<TelemetryResourceRegistry>();
        services.AddSingleton<LogStore>();
        services.AddSingleton<TraceStore>();
        services.AddSingleton<MetricStore>();
        services.AddSingleton<TelemetryChangeNotifier>();
        services.AddSingleton<TelemetryIngestion>();
        services.AddSingleton<TelemetryFileWriter>();

        // Replay first, so persisted telemetry is back before the writer opens a new segment and before requests arrive.
        services.AddHostedService<TelemetryReplayService>();
        services.AddHostedService(sp => sp.GetRequiredService<TelemetryFileWriter>());
        return services;
    }

    private static IServiceCollection AddDashboardAuthentication(this IServiceCollection services, int frontendPort)
    {
        // Keys live only as long as the process: a sign-in cookie (or form token) from an earlier run, or from
        // another dashboard started with a different token, cannot be decrypted. Persisted keys in ~/.aspnet are
        // shared by every dashboard of this user.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();

        // Browsers send cookies to every port of a host: names with the port keep two local dashboards apart.
        services.AddAntiforgery(options => options.Cookie.Name = $"{DashboardAuthenticationDefaults.AntiforgeryCookieName}.{frontendPort}");
        services.AddSingleton<BrowserTokenValidator>();
        services.AddSingleton<DashboardSessions>();
        services.AddAuthentication(DashboardAuthenticationDefaults.SelectorScheme)
            .AddPolicyScheme(DashboardAuthenticationDefaults.SelectorScheme, "Cookie or token", options =>
            {
                options.ForwardDefaultSelector = context => ApiTokenAuthenticationHandler.HasToken(context.Request)
                    ? DashboardAuthenticationDefaults.ApiTokenScheme
                    : DashboardAuthenticationDefaults.CookieScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(DashboardAuthenticationDefaults.ApiTokenScheme, _ => { })
            .AddCookie(DashboardAuthenticationDefaults.CookieScheme, options =>
            {
                options.Cookie.Name = $"{DashboardAuthenticationDefaults.CookieName}.{frontendPort}";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.LoginPath = LoginApi.LoginPath;
                options.ExpireTimeSpan = DashboardAuthenticationDefaults.CookieLifetime;
                options.SlidingExpiration = true;
                options.Events.OnValidatePrincipal = async context =>
                {
                    // A cookie whose sign-in was signed out (a copy kept elsewhere, say) no longer signs anyone in.
                    if (context.Principal is { } user && !context.HttpContext.RequestServices.GetRequiredService<DashboardSessions>().IsActive(user))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(DashboardAuthenticationDefaults.CookieScheme);
                    }
                };
                options.Events.OnRedirectToLogin = context =>
                {
                    // Scripts get a status code, people get the sign-in page.
                    if (context.Request.Path.StartsWithSegments("/api"))
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        return Task.CompletedTask;
                    }

                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(DashboardAuthenticationDefaults.Policy, policy => policy.RequireAssertion(context =>
            {
                var validator = (context.Resource as HttpContext)?.RequestServices.GetRequiredService<BrowserTokenValidator>();
                return validator is { IsSecured: false } || context.User.Identity?.IsAuthenticated == true;
            }));

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, DashboardAuthenticationStateProvider>();
        return services;
    }

    private static IServiceCollection AddResourceServiceClient(this IServiceCollection services)
    {
        services.AddSingleton<ResourceStateStore>();
        services.AddHttpClient<ResourceServiceClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<DashboardOptions>>().Value;
            if (!string.IsNullOrWhiteSpace(options.ResourceServiceUrl))
            {
                http.BaseAddress = new Uri(options.ResourceServiceUrl.TrimEnd('/') + "/");
            }

            if (!string.IsNullOrEmpty(options.ResourceServiceApiKey))
            {
                http.DefaultRequestHeaders.Add(ResourceServiceProtocol.ApiKeyHeader, options.ResourceServiceApiKey);
            }

            // Watch and console streams stay open for as long as the dashboard runs; commands set their own timeout.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        services.AddHostedService<ResourceWatcher>();
        return services;
    }
}
