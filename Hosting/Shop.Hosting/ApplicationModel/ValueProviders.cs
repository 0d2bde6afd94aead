using System.Runtime.CompilerServices;
using System.Text;

namespace Shop.Hosting.ApplicationModel;

/// <summary>A value known only when the application runs (a port, a generated password, a connection string).</summary>
public interface IValueProvider
{
    ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A string assembled from literals and late-bound values, as Aspire's <c>ReferenceExpression</c>:
/// <c>ReferenceExpression.Create($"Host={endpoint.Property(EndpointProperty.Host)};Password={password}")</c>.
/// </summary>
public sealed class ReferenceExpression : IValueProvider
{
    private readonly IReadOnlyList<object> _parts;

    private ReferenceExpression(IReadOnlyList<object> parts) => _parts = parts;

    /// <summary>Literals (strings) and late-bound values (<see cref="IValueProvider"/>), in order.</summary>
    internal IReadOnlyList<object> Parts => _parts;

    public static ReferenceExpression Create(in ExpressionInterpolatedStringHandler handler) => new(handler.Parts);

    public static ReferenceExpression FromValue(IValueProvider value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new([value]);
    }

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            text.Append(part is IValueProvider provider ? await provider.GetValueAsync(cancellationToken) : (string)part);
        }

        return text.ToString();
    }

    [InterpolatedStringHandler]
    public readonly ref struct ExpressionInterpolatedStringHandler
    {
        private readonly List<object> _parts;

        public ExpressionInterpolatedStringHandler(int literalLength, int formattedCount) =>
            _parts = new List<object>(formattedCount * 2 + 1);

        internal IReadOnlyList<object> Parts => _parts;

        public void AppendLiteral(string value) => _parts.Add(value);

        public void AppendFormatted(string? value) => _parts.Add(value ?? string.Empty);

        public void AppendFormatted(IValueProvider value) => _parts.Add(value);

        public void AppendFormatted<T>(IResourceBuilder<T> builder) where T : IResource, IValueProvider => _parts.Add(builder.Resource);
    }
}

public enum EndpointProperty
{
    Url,
    Host,
    Port,
    Scheme,
}

/// <summary>A reference to an endpoint of a resource, resolved once ports are allocated.</summary>
public sealed class EndpointReference(IResourceWithEndpoints resource, string endpointName) : IValueProvider
{
    public IResourceWithEndpoints Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    public EndpointAnnotation Annotation =>
        Resource.AnnotationsOf<EndpointAnnotation>().FirstOrDefault(e => e.Name == EndpointName)
        ?? throw new InvalidOperationException($"Resource '{Resource.Name}' has no endpoint named '{EndpointName}'.");

    public bool IsAllocated => Annotation.Allocated.Count > 0;

    /// <summary>The first replica's endpoint (servers run one process).</summary>
    public AllocatedEndpoint Allocated => IsAllocated
        ? Annotation.Allocated[0]
        : throw new InvalidOperationException($"Endpoint '{Resource.Name}/{EndpointName}' is not allocated yet: the application has not started.");

    public string Url => Allocated.Url;

    public IValueProvider Property(EndpointProperty property) => new EndpointPropertyValue(this, property);

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(Url);

    internal sealed class EndpointPropertyValue(EndpointReference endpoint, EndpointProperty property) : IValueProvider
    {
        public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
        {
            var allocated = endpoint.Allocated;
            return ValueTask.FromResult<string?>(property switch
            {
                EndpointProperty.Host => allocated.Host,
                EndpointProperty.Port => allocated.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                EndpointProperty.Scheme => allocated.UriScheme,
                _ => allocated.Url,
            });
        }
    }
}

/// <summary>
/// A value read from the AppHost's configuration when it is needed, such as the connection string of an existing
/// server (<c>ConnectionStrings:{name}</c>). Publishers keep it out of manifests: it becomes a secret reference.
/// </summary>
internal sealed class ConfigurationValue(Microsoft.Extensions.Configuration.IConfiguration configuration, string key) : IValueProvider
{
    public string Key { get; } = key;

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<string?>(configuration[Key] is { Length: > 0 } value
            ? value
            : throw new DistributedApplicationException($"'{Key}' is missing: set it in the AppHost's configuration (or the environment variable {Key.Replace(":", "__", StringComparison.Ordinal)})."));

    /// <summary>The connection string configured for <paramref name="name"/>, as an expression, or null when none is.</summary>
    public static ReferenceExpression? ConnectionString(Microsoft.Extensions.Configuration.IConfiguration configuration, string name)
    {
        var key = KnownConfigNames.ConnectionString(name);
        return string.IsNullOrWhiteSpace(configuration[key]) ? null : ReferenceExpression.FromValue(new ConfigurationValue(configuration, key));
    }
}
