using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Testing;

/// <summary>A builder whose app runs under test: random ports, isolated temporary data, no dashboard.</summary>
public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder
{
    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Starts an AppHost's own <c>Program</c> in-process with test overrides, as Aspire.Hosting.Testing does:
/// <code>
/// var appHost = await DistributedApplicationTestingBuilder.CreateAsync&lt;Projects.Shop_AppHost&gt;();
/// await using var app = await appHost.BuildAsync();
/// await app.StartAsync();
/// await app.ResourceNotifications.WaitForResourceHealthyAsync("products");
/// </code>
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default)
        where TEntryPoint : class, IProjectMetadata, new() =>
        CreateAsync<TEntryPoint>([], cancellationToken);

    /// <summary>Runs the AppHost's <c>Program</c> up to <c>builder.Build()</c> and hands its builder to the test.</summary>
    public static async Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default)
        where TEntryPoint : class, IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(args);
        var metadata = new TEntryPoint();
        var assembly = LoadAppHostAssembly(metadata);
        var entryPoint = assembly.EntryPoint
            ?? throw new InvalidOperationException($"'{assembly.GetName().Name}' has no entry point: is it an AppHost project?");

        var captured = new TaskCompletionSource<DistributedApplicationBuilder>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            DistributedApplicationTestingHook.Begin(new DistributedApplicationTestingHook.Session(
                [.. TestDefaults(), .. args], assembly.GetName().Name!, builder => captured.TrySetResult(builder)));
            try
            {
                entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [args]);
                captured.TrySetException(new InvalidOperationException(
                    $"The Program of '{assembly.GetName().Name}' returned without calling builder.Build()."));
            }
            catch (TargetInvocationException ex) when (ex.InnerException is DistributedApplicationTestingHook.BuilderCapturedException)
            {
            }
            catch (TargetInvocationException ex)
            {
                captured.TrySetException(ex.InnerException ?? ex);
            }
        })
        {
            IsBackground = true,
            Name = $"{assembly.GetName().Name} Program",
        };
        thread.Start();

        var builder = await captured.Task.WaitAsync(cancellationToken);
        return new TestingBuilder(builder);
    }

    /// <summary>An empty app model under test, for resources added by the test itself.</summary>
    public static IDistributedApplicationTestingBuilder Create(params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new DistributedApplicationOptions
        {
            Args = [.. TestDefaults(), .. args],
            IsTesting = true,
            AppHostDirectory = AppContext.BaseDirectory,
            AppHostAssemblyName = Assembly.GetCallingAssembly().GetName().Name,
        };
        return new TestingBuilder(new DistributedApplicationBuilder(options));
    }

    private static string[] TestDefaults() =>
    [
        $"--{KnownConfigNames.RandomizePorts}=true",
        $"--{KnownConfigNames.DisableDashboard}=true",
    ];

    private static Assembly LoadAppHostAssembly(IProjectMetadata metadata)
    {
        var targetPath = metadata.TargetPath
            ?? throw new InvalidOperationException($"The build did not record where {metadata.ProjectPath} is built: reference the AppHost project from the test project.");
        var name = new AssemblyName(Path.GetFileNameWithoutExtension(targetPath));
        try
        {
            return Assembly.Load(name);
        }
        catch (FileNotFoundException)
        {
            return Assembly.LoadFrom(targetPath);
        }
    }

    private sealed class TestingBuilder(DistributedApplicationBuilder inner) : IDistributedApplicationTestingBuilder
    {
        public ConfigurationManager Configuration => inner.Configuration;

        public IHostEnvironment Environment => inner.Environment;

        public IServiceCollection Services => inner.Services;

        public DistributedApplicationExecutionContext ExecutionContext => inner.ExecutionContext;

        public IResourceCollection Resources => inner.Resources;

        public string AppHostDirectory => inner.AppHostDirectory;

        public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource => inner.AddResource(resource);

        public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => inner.CreateResourceBuilder(resource);

        public DistributedApplication Build() => inner.BuildCore();

        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(inner.BuildCore());
    }
}
