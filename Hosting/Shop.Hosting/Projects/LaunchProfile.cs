using System.Text.Json;

namespace Shop.Hosting;

/// <summary>The parts of a project's <c>Properties/launchSettings.json</c> profile the AppHost uses.</summary>
internal sealed record LaunchProfile(string Name, int? HttpPort, IReadOnlyDictionary<string, string> EnvironmentVariables)
{
    /// <summary>The "http" profile if there is one, else the first profile that runs the project.</summary>
    public static LaunchProfile? Read(string projectDirectory)
    {
        var path = Path.Combine(projectDirectory, "Properties", "launchSettings.json");
        if (!File.Exists(path))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!document.RootElement.TryGetProperty("profiles", out var profiles) || profiles.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var candidates = profiles.EnumerateObject()
            .Where(p => p.Value.TryGetProperty("commandName", out var command) && command.GetString() == "Project")
            .ToList();
        var chosen = candidates.FirstOrDefault(p => p.Name == "http");
        if (chosen.Value.ValueKind == JsonValueKind.Undefined)
        {
            chosen = candidates.FirstOrDefault();
        }

        if (chosen.Value.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }

        int? httpPort = null;
        if (chosen.Value.TryGetProperty("applicationUrl", out var urls) && urls.GetString() is { } urlList)
        {
            httpPort = urlList.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null)
                .FirstOrDefault(u => u?.Scheme == Uri.UriSchemeHttp)?.Port;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (chosen.Value.TryGetProperty("environmentVariables", out var variables) && variables.ValueKind == JsonValueKind.Object)
        {
            foreach (var variable in variables.EnumerateObject())
            {
                environment[variable.Name] = variable.Value.GetString() ?? string.Empty;
            }
        }

        return new LaunchProfile(chosen.Name, httpPort, environment);
    }
}
