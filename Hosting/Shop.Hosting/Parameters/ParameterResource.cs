using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>A value from the AppHost's configuration (<c>Parameters:{name}</c>), secret or not.</summary>
public sealed class ParameterResource : Resource, IValueProvider, IValueOnlyResource
{
    private readonly Lazy<string> _value;

    public ParameterResource(string name, Func<string> valueFactory, bool secret) : base(name)
    {
        ArgumentNullException.ThrowIfNull(valueFactory);
        _value = new Lazy<string>(valueFactory, LazyThreadSafetyMode.ExecutionAndPublication);
        Secret = secret;
    }

    public bool Secret { get; }

    /// <summary>What the value is for, told to whoever has to set it (Aspire's <c>WithDescription</c>).</summary>
    public string? Description { get; set; }

    /// <summary>The value; reading it for the first time may generate (and persist) a secret.</summary>
    public string Value => _value.Value;

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Value);
}

/// <summary>A connection string supplied by configuration (<c>ConnectionStrings:{name}</c>): an existing server.</summary>
public sealed class ConnectionStringResource : Resource, IResourceWithConnectionString, IResourceWithWaitSupport
{
    internal ConnectionStringResource(string name, Microsoft.Extensions.Configuration.IConfiguration configuration) : base(name) =>
        ConnectionStringExpression = ReferenceExpression.FromValue(new ConfigurationValue(configuration, KnownConfigNames.ConnectionString(name)));

    public ReferenceExpression ConnectionStringExpression { get; }
}
