using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting;

internal sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    /// <summary>Assembly metadata written at build time by <c>Shop.Hosting.AppHost.targets</c>.</summary>
    internal const string AppHostDirectoryMetadataKey = "shop.apphost.directory";

    /// <summary>Aspire's publishing switches: <c>--publisher kubernetes --output-path ./k8s</c>.</summary>
    private static readonly Dictionary<string, string> PublishingSwitches = new(StringComparer.Ordinal)
    {
        ["--publisher"] = KnownConfigNames.Publisher,
        ["--output-path"] = KnownConfigNames.PublishOutputPath,
    };

    private readonly HostApplicationBuilder _hostBuilder;
    private readonly ResourceCollection _resources = new();
    private readonly DistributedApplicationOptions _options;

    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;

        var appHostAssembly = ResolveAppHostAssembly(options);
        AppHostDirectory = options.AppHostDirectory ?? ReadAppHostDirectory(appHostAssembly) ?? AppContext.BaseDirectory;

        // The host's own settings (environment name) come from DOTNET_* variables and the command line, as usual.
        var hostConfiguration = new ConfigurationManager();
        hostConfiguration.AddEnvironmentVariables(prefix: "DOTNET_");
        hostConfiguration.AddCommandLine(options.Args, PublishingSwitches);
        _hostBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = options.Args,
            Configuration = hostConfiguration,
            ApplicationName = appHostAssembly?.GetName().Name ?? "Shop.AppHost",
            ContentRootPath = AppHostDirectory,
            EnvironmentName = options.IsTesting ? Environments.Development : null,
            DisableDefaults = true,
        });
        ConfigureConfiguration(appHostAssembly);
        ConfigureLogging();

        ExecutionContext = new DistributedApplicationExecutionContext(
            string.IsNullOrWhiteSpace(Configuration[KnownConfigNames.Publisher]) ? DistributedApplicationOperation.Run : DistributedApplicationOperation.Publish,
            options.IsTesting);
        if (options.IsTesting)
        {
            Configuration[KnownConfigNames.RandomizePorts] ??= "true";
            Configuration[KnownConfigNames.DisableDashboard] ??= "true";
        }

        if (options.DisableDashboard)
        {
            Configuration[KnownConfigNames.DisableDashboard] = "true";
        }
    }

    public ConfigurationManager Configuration => _hostBuilder.Configuration;

    public IHostEnvironment Environment => _hostBuilder.Environment;

    public IServiceCollection Services => _hostBuilder.Services;

    public DistributedApplicationExecutionContext ExecutionContext { get; }

    public IResourceCollection Resources => _resources;

    public string AppHostDirectory { get; }

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        _resources.Add(resource);
        return CreateResourceBuilder(resource);
    }

    public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    public DistributedApplication Build()
    {
        // Under the testing builder the AppHost's Program stops here and hands the builder to the test.
        DistributedApplicationTestingHook.InterceptBuild(this);

        try
        {
            return BuildCore();
        }
        catch (DistributedApplicationException ex) when (!ExecutionContext.IsTesting)
        {
            ConsoleReporter.WriteFatal(ex.Message);
            System.Environment.Exit(1);
            throw;
        }
    }

    internal DistributedApplication BuildCore()
    {
        ModelValidator.Validate(_resources);
        foreach (var parameter in _resources.OfType<ParameterResource>())
        {
            parameter.Validate();
        }

        var model = new DistributedApplicationModel([.. _resources]);
        Services.AddSingleton(model);
        Services.AddSingleton(ExecutionContext);
        Services.AddSingleton(_options);
        Services.AddSingleton(this);
        if (ExecutionContext.IsPublishMode)
        {
            Services.AddSingleton(TimeProvider.System);
            Services.AddSingleton<ResourceLoggerService>();
            Services.AddSingleton<ConsoleReporter>();
            Services.AddSingleton<Publishing.KubernetesPublisher>();
        }
        else
        {
            var settings = OrchestrationSettings.Read(Configuration);
            Services.AddHostingOrchestration(settings, Dashboard.DashboardOptions.Configure(Configuration, settings.RandomizePorts));
        }
        Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        return new DistributedApplication(_hostBuilder.Build());
    }

    private void ConfigureConfiguration(Assembly? appHostAssembly)
    {
        var environmentName = _hostBuilder.Environment.EnvironmentName;
        Configuration.AddJsonFile(Path.Combine(AppHostDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        Configuration.AddJsonFile(Path.Combine(AppHostDirectory, $"appsettings.{environmentName}.json"), optional: true, reloadOnChange: false);
        if (appHostAssembly is not null && _hostBuilder.Environment.IsDevelopment())
        {
            Configuration.AddUserSecrets(appHostAssembly, optional: true, reloadOnChange: false);
        }

        Configuration.AddEnvironmentVariables();
        Configuration.AddCommandLine(_options.Args, PublishingSwitches);
    }

    private void ConfigureLogging()
    {
        var logging = _hostBuilder.Logging;
        logging.AddConfiguration(Configuration.GetSection("Logging"));
        if (!_options.IsTesting)
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // A start-up failure reaches Run, which reports it (a DistributedApplicationException in one line): the host's
        // own "Hosting failed to start" would print it again with its stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    }

    private static Assembly? ResolveAppHostAssembly(DistributedApplicationOptions options)
    {
        if (options.AppHostAssemblyName is { } name)
        {
            return Assembly.Load(new AssemblyName(name));
        }

        return Assembly.GetEntryAssembly();
    }

    private static string? ReadAppHostDirectory(Assembly? assembly) =>
        assembly?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == AppHostDirectoryMetadataKey)?.Value;
}
