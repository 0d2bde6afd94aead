using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Shop.Dashboard.Contracts;

namespace Shop.Dashboard.ResourceService;

public enum CommandOutcome
{
    Accepted,
    UnknownResource,
    NotApplicable,
    Failed,
}

/// <summary>
/// HTTP client for the AppHost's resource service (see <see cref="ResourceServiceProtocol"/>). Its
/// <see cref="HttpClient"/> carries the base address and the API key header; streams are read as server-sent events.
/// </summary>
public sealed class ResourceServiceClient(HttpClient http)
{
    public IAsyncEnumerable<ResourceSnapshot> WatchResourcesAsync(CancellationToken cancellationToken) =>
        ReadEventsAsync("api/v1/resources/watch", ResourceServiceJsonContext.Default.ResourceSnapshot, cancellationToken);

    public IAsyncEnumerable<ConsoleLogLine> WatchConsoleLogsAsync(string resourceName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        return ReadEventsAsync(
            $"api/v1/resources/{Uri.EscapeDataString(resourceName)}/console?follow=true",
            ResourceServiceJsonContext.Default.ConsoleLogLine,
            cancellationToken);
    }

    public async Task<CommandOutcome> ExecuteCommandAsync(string resourceName, string command, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await http.PostAsync(
            $"api/v1/resources/{Uri.EscapeDataString(resourceName)}/commands/{Uri.EscapeDataString(command)}", content: null, timeout.Token);
        return response.StatusCode switch
        {
            HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NoContent => CommandOutcome.Accepted,
            HttpStatusCode.NotFound => CommandOutcome.UnknownResource,
            HttpStatusCode.Conflict => CommandOutcome.NotApplicable,
            _ => CommandOutcome.Failed,
        };
    }

    private async IAsyncEnumerable<T> ReadEventsAsync<T>(
        string path, JsonTypeInfo<T> typeInfo, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var item = JsonSerializer.Deserialize(data.ToString(), typeInfo);
                    data.Clear();
                    if (item is not null)
                    {
                        yield return item;
                    }
                }

                continue;
            }

            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                var value = line.AsSpan(5);
                if (value.StartsWith(" "))
                {
                    value = value[1..];
                }

                if (data.Length > 0)
                {
                    data.Append('\n');
                }

                data.Append(value);
            }
        }
    }
}
