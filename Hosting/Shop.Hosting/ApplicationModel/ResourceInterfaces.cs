namespace Shop.Hosting.ApplicationModel;

/// <summary>A resource that receives environment variables (projects, executables).</summary>
public interface IResourceWithEnvironment : IResource;

/// <summary>A resource whose command line can be extended with <c>WithArgs</c>.</summary>
public interface IResourceWithArgs : IResource;

/// <summary>A resource with network endpoints.</summary>
public interface IResourceWithEndpoints : IResource;

/// <summary>A resource other resources can wait for.</summary>
public interface IResourceWithWaitSupport : IResource;

/// <summary>A resource whose endpoints are published to referencing resources as <c>services__{name}__{endpoint}__{i}</c>.</summary>
public interface IResourceWithServiceDiscovery : IResourceWithEndpoints;

/// <summary>A resource that offers a connection string (<c>ConnectionStrings__{name}</c>).</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string, resolved late: ports and passwords are known only when the app starts.</summary>
    ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>The configuration key under which referencing resources receive it; defaults to the resource name.</summary>
    string ConnectionStringEnvironmentVariable => $"ConnectionStrings__{Name}";
}

/// <summary>A resource that lives inside another one (a database inside its server).</summary>
public interface IResourceWithParent : IResource
{
    IResource Parent { get; }
}

public interface IResourceWithParent<out T> : IResourceWithParent where T : IResource
{
    new T Parent { get; }

    IResource IResourceWithParent.Parent => Parent;
}
