namespace Shop.Hosting;

public enum DistributedApplicationOperation
{
    Run,
    Publish,
}

/// <summary>Whether the app model is being run locally or published (e.g. to Kubernetes manifests).</summary>
public sealed class DistributedApplicationExecutionContext(DistributedApplicationOperation operation, bool isTesting = false)
{
    public DistributedApplicationOperation Operation { get; } = operation;

    public bool IsRunMode => Operation == DistributedApplicationOperation.Run;

    public bool IsPublishMode => Operation == DistributedApplicationOperation.Publish;

    /// <summary>Started by the testing builder: random ports, isolated data, no dashboard.</summary>
    public bool IsTesting { get; } = isTesting;
}

/// <summary>Options for <see cref="DistributedApplication.CreateBuilder(DistributedApplicationOptions)"/>.</summary>
public sealed class DistributedApplicationOptions
{
    public string[] Args { get; set; } = [];

    /// <summary>Do not start the dashboard (the testing builder sets this).</summary>
    public bool DisableDashboard { get; set; }

    /// <summary>The directory of the AppHost project; defaults to the one recorded at build time.</summary>
    public string? AppHostDirectory { get; set; }

    /// <summary>The AppHost's assembly name; used for its user secrets and application name.</summary>
    public string? AppHostAssemblyName { get; set; }

    internal bool IsTesting { get; set; }
}

/// <summary>An error in the app model or its environment that deserves a clear message rather than a stack trace.</summary>
public sealed class DistributedApplicationException(string message, Exception? innerException = null)
    : Exception(message, innerException);
