namespace Shop.Hosting;

/// <summary>
/// Lets the testing builder run an AppHost's own <c>Program</c> in-process: <c>CreateBuilder</c> picks up the
/// test's overrides, and <c>Build()</c> hands the builder to the test instead of returning to <c>Program</c>.
/// Scoped to the async flow that runs the entry point, so two apps can be built side by side.
/// </summary>
internal static class DistributedApplicationTestingHook
{
    private static readonly AsyncLocal<Session?> Current = new();

    internal sealed class Session(string[] args, string appHostAssemblyName, Action<DistributedApplicationBuilder> onBuild)
    {
        public string[] Args { get; } = args;

        public string AppHostAssemblyName { get; } = appHostAssemblyName;

        public Action<DistributedApplicationBuilder> OnBuild { get; } = onBuild;
    }

    /// <summary>Thrown from <c>Build()</c> to unwind the AppHost's <c>Program</c> once the test holds the builder.</summary>
    internal sealed class BuilderCapturedException() : Exception("The testing builder took over the AppHost's builder.");

    public static void Begin(Session session) => Current.Value = session;

    public static void ApplyTo(DistributedApplicationOptions options)
    {
        if (Current.Value is not { } session)
        {
            return;
        }

        options.IsTesting = true;
        options.Args = [.. options.Args, .. session.Args];
        options.AppHostAssemblyName ??= session.AppHostAssemblyName;
    }

    public static void InterceptBuild(DistributedApplicationBuilder builder)
    {
        if (Current.Value is not { } session)
        {
            return;
        }

        Current.Value = null;
        session.OnBuild(builder);
        throw new BuilderCapturedException();
    }
}
