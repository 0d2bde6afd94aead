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

    /// <summary>What a value must be to be taken (<see cref="ParameterValidation"/>), checked when the app is built.</summary>
    internal (Func<string, bool> IsValid, string Expected)? Validation { get; set; }

    /// <summary>
    /// Fails with the parameter's name when its value is not what its resources can take: said here, once, rather than
    /// by a service that cannot start, naming its own setting.
    /// </summary>
    internal void Validate()
    {
        if (Validation is not { } validation || validation.IsValid(Value))
        {
            return;
        }

        var key = KnownConfigNames.Parameter(Name);
        throw new DistributedApplicationException(Secret
            ? $"{key} is not {validation.Expected}."
            : $"{key} is '{Value}', which is not {validation.Expected}.");
    }

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Value);
}

/// <summary>A connection string supplied by configuration (<c>ConnectionStrings:{name}</c>): an existing server.</summary>
public sealed class ConnectionStringResource : Resource, IResourceWithConnectionString, IResourceWithWaitSupport
{
    internal ConnectionStringResource(string name, Microsoft.Extensions.Configuration.IConfiguration configuration) : base(name) =>
        ConnectionStringExpression = ReferenceExpression.FromValue(new ConfigurationValue(configuration, KnownConfigNames.ConnectionString(name)));

    public ReferenceExpression ConnectionStringExpression { get; }
}
