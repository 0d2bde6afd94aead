using System.Diagnostics;
using System.Text;

namespace Shop.Tests.Products;

/// <summary>
/// Debian's kcat, a Kafka client of its own (librdkafka), to put events on the running app's broker as another
/// service would and to read what the services published, without sharing any code with the event bus. It signs in
/// with the settings of <c>GetKafkaClientConfigAsync</c> (the broker's admin), handed over in a file readable only by
/// this user rather than on kcat's command line.
/// </summary>
internal static class Kcat
{
    public const string Path = "/usr/bin/kcat";

    /// <summary>Produces <paramref name="messages"/> (key, JSON value) to <paramref name="topic"/>, in order, each with <paramref name="headers"/>.</summary>
    public static async Task ProduceAsync(
        IReadOnlyDictionary<string, string> kafka, string topic, IReadOnlyDictionary<string, string> headers, IEnumerable<(string Key, string Value)> messages, CancellationToken cancellationToken)
    {
        var input = new StringBuilder();
        foreach (var (key, value) in messages)
        {
            if (key.Contains('\t') || value.Contains('\n'))
            {
                throw new ArgumentException("Keys must not contain tabs and values must be on one line.", nameof(messages));
            }

            input.Append(key).Append('\t').Append(value).Append('\n');
        }

        string[] args = ["-P", "-t", topic, "-K", "\t", .. headers.SelectMany(h => (string[])["-H", $"{h.Key}={h.Value}"])];
        var (exitCode, _, error) = await RunAsync(kafka, input.ToString(), args, cancellationToken);
        Assert.True(exitCode == 0, $"kcat could not produce to {topic}: {error}");
    }

    /// <summary>Every message of <paramref name="topic"/> so far: key, headers and value, one per line.</summary>
    public static async Task<IReadOnlyList<(string Key, string Headers, string Value)>> ConsumeAllAsync(
        IReadOnlyDictionary<string, string> kafka, string topic, CancellationToken cancellationToken)
    {
        var (exitCode, output, error) = await RunAsync(
            kafka, null, ["-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n"], cancellationToken);
        Assert.True(exitCode == 0, $"kcat could not read {topic}: {error}");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => (parts[0], parts[1], parts[2]))];
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        IReadOnlyDictionary<string, string> kafka, string? input, string[] args, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException("kcat is not installed: apt-get install kcat (the CI script installs it).");
        }

        var configFile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kcat-{Guid.NewGuid():N}.conf");
        await using (var config = new FileStream(configFile, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(config))
        {
            foreach (var (key, value) in kafka.Where(setting => setting.Key != "bootstrap.servers"))
            {
                await writer.WriteLineAsync($"{key}={value}".AsMemory(), cancellationToken);
            }
        }

        try
        {
            return await RunProcessAsync(kafka["bootstrap.servers"], configFile, input, args, cancellationToken);
        }
        finally
        {
            File.Delete(configFile);
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(
        string bootstrap, string configFile, string? input, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-b", bootstrap, "-F", configFile, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
