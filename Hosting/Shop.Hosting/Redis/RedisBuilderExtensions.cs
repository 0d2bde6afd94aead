using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting;

public static class RedisBuilderExtensions
{
    /// <summary>
    /// Adds a Redis server: Debian's redis-server as a child process on its own port with a generated password, or,
    /// when <c>ConnectionStrings:{name}</c> is configured, that existing server.
    /// </summary>
    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name, int? port = null, IResourceBuilder<ParameterResource>? password = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);

        var existing = ConfigurationValue.ConnectionString(builder.Configuration, name);
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateGeneratedSecret(builder, $"{name}-password");
        var resource = new RedisResource(name, passwordParameter, existing);
        var redis = builder.AddResource(resource)
            .WithHealthCheck("PING", (_, cancellationToken) => PingAsync(resource, cancellationToken));
        if (resource.ExistingConnectionString is null)
        {
            redis.WithAnnotation(new EndpointAnnotation(RedisResource.PrimaryEndpointName, "tcp", port))
                .WithAnnotation(new ProcessLaunchAnnotation(context => Task.FromResult(CreateProcessSpec(resource, context))));
        }

        return redis;
    }

    /// <summary>Keeps the data between runs (append-only file under the AppHost's data directory).</summary>
    public static IResourceBuilder<RedisResource> WithDataVolume(this IResourceBuilder<RedisResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.IsPersistent = true;
        return builder;
    }

    private static ProcessSpec CreateProcessSpec(RedisResource resource, ProcessLaunchContext context)
    {
        var configuration = context.Services.GetRequiredService<IConfiguration>();
        var server = configuration[KnownConfigNames.RedisServerPath] ?? ProcessSpawner.FindOnPath("redis-server");
        if (server is null || !File.Exists(server))
        {
            throw new DistributedApplicationException(
                $"redis-server was not found{(server is null ? " on PATH" : $" at {server}")}. Install it with `sudo apt-get install redis-server` (or run ./run.sh, which installs what is missing), " +
                $"or use an existing server: set ConnectionStrings:{resource.Name} in the AppHost's configuration (\"host:port,password=…\").");
        }

        var directory = context.Services.GetRequiredService<DataDirectories>().GetResourceDirectory(resource.Name, resource.IsPersistent);
        DataDirectories.CreatePrivateDirectory(directory);

        // The configuration, password included, goes through standard input so it never shows in `ps`.
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port {resource.PrimaryEndpoint.Allocated.Port}")
            .AppendLine("bind 127.0.0.1")
            .AppendLine(CultureInfo.InvariantCulture, $"requirepass {resource.PasswordParameter.Value}")
            .AppendLine(CultureInfo.InvariantCulture, $"dir {directory}")
            .AppendLine("daemonize no")
            .AppendLine("protected-mode yes");
        config.AppendLine(resource.IsPersistent ? "appendonly yes\nappendfsync everysec\nsave 60 1" : "appendonly no\nsave \"\"");

        return new ProcessSpec(server)
        {
            Arguments = ["-"],
            WorkingDirectory = directory,
            StandardInput = config.ToString(),
        };
    }

    private static async Task<HealthCheckOutcome> PingAsync(RedisResource resource, CancellationToken cancellationToken)
    {
        var connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? string.Empty;
        var (host, port, password) = ParseConnectionString(connectionString);

        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        await using var stream = client.GetStream();
        var request = password is null ? "PING\r\n" : $"AUTH {RespString(password)}\r\nPING\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request), cancellationToken);

        var reply = new StringBuilder();
        var buffer = new byte[256];
        while (!reply.ToString().Contains("PONG", StringComparison.Ordinal) && !reply.ToString().Contains('-', StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        var text = reply.ToString();
        return text.Contains("+PONG", StringComparison.Ordinal)
            ? HealthCheckOutcome.Healthy
            : HealthCheckOutcome.Unhealthy($"unexpected reply to PING: {text.Split('\r')[0]}");
    }

    private static (string Host, int Port, string? Password) ParseConnectionString(string connectionString)
    {
        var parts = connectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var endpoint = parts.FirstOrDefault(p => !p.Contains('=', StringComparison.Ordinal)) ?? "localhost:6379";
        var separator = endpoint.LastIndexOf(':');
        var host = separator > 0 ? endpoint[..separator] : endpoint;
        var port = separator > 0 ? int.Parse(endpoint[(separator + 1)..], CultureInfo.InvariantCulture) : 6379;
        var password = parts.FirstOrDefault(p => p.StartsWith("password=", StringComparison.OrdinalIgnoreCase))?["password=".Length..];
        return (host, port, password);
    }

    /// <summary>A RESP inline argument, quoted so that any password survives.</summary>
    private static string RespString(string value) => $"\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
}
