using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration.UserSecrets;

namespace Shop.Hosting;

/// <summary>Keeps generated secrets in the AppHost's user secrets: per user, outside the repository.</summary>
internal static class UserSecretsStore
{
    private static readonly Lock Lock = new();

    public static bool TrySave(IDistributedApplicationBuilder builder, string key, string value)
    {
        var assembly = Assembly.Load(new AssemblyName(builder.Environment.ApplicationName));
        if (assembly.GetCustomAttribute<UserSecretsIdAttribute>() is not { } attribute)
        {
            return false;
        }

        var path = PathHelper.GetSecretsPathFromSecretsId(attribute.UserSecretsId);
        lock (Lock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var secrets = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? [] : [];
            secrets[key] = value;
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, secrets.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, path, overwrite: true);
        }

        return true;
    }
}
