using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration.UserSecrets;

namespace Shop.Hosting;

/// <summary>Keeps generated secrets in the AppHost's user secrets: per user, outside the repository.</summary>
internal static class UserSecretsStore
{
    private static readonly Lock Lock = new();

    /// <summary>The AppHost's user-secrets file, or null when its assembly has no <c>UserSecretsId</c>.</summary>
    public static string? PathOf(IDistributedApplicationBuilder builder)
    {
        var assembly = Assembly.Load(new AssemblyName(builder.Environment.ApplicationName));
        return assembly.GetCustomAttribute<UserSecretsIdAttribute>() is { } attribute
            ? PathHelper.GetSecretsPathFromSecretsId(attribute.UserSecretsId)
            : null;
    }

    /// <summary>
    /// The value stored under <paramref name="key"/>, or a new one from <paramref name="create"/>, stored first. A
    /// stored value is never replaced: what was made with it (identity's encrypted keys, a server's password) needs the
    /// same value on the next run, in whichever environment that run is, and configuration reads user secrets only in
    /// Development.
    /// </summary>
    public static string GetOrAdd(string path, string key, Func<string> create)
    {
        lock (Lock)
        {
            var secrets = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [] : [];
            if (secrets[key] is JsonValue stored && stored.TryGetValue<string>(out var existing) && existing.Length > 0)
            {
                return existing;
            }

            var value = create();
            secrets[key] = value;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, secrets.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, path, overwrite: true);
            return value;
        }
    }
}
