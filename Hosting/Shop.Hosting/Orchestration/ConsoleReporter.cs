using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// What the AppHost tells its user: resource progress, resource output prefixed with the resource name, failures
/// with their last output lines, and the <c>Ready:</c> line. In run mode it writes to the terminal; under the
/// testing builder everything goes to the logger, so a test's output shows it.
/// </summary>
internal sealed partial class ConsoleReporter(
    DistributedApplicationExecutionContext executionContext,
    IConfiguration configuration,
    ResourceLoggerService resourceLogs,
    ILoggerFactory loggerFactory)
{
    /// <summary>Show every resource's output in the terminal (default true); the dashboard has it either way.</summary>
    public const string ShowResourceOutputKey = "AppHost:Terminal:ShowResourceOutput";

    private static readonly Lock ConsoleLock = new();

    // The resource whose output line is the last thing in the terminal, if one is.
    private static string? _lastLineFrom;
    private static readonly string[] Palette = ["\e[36m", "\e[32m", "\e[33m", "\e[35m", "\e[34m", "\e[96m", "\e[92m", "\e[93m", "\e[95m", "\e[94m"];

    private readonly ConcurrentDictionary<string, ILogger> _resourceLoggers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string ResourceId, bool IsStdErr), OutputLevelReader> _outputLevels = new();
    private readonly List<(string Name, string Url)> _entryPoints = [];
    private readonly ILogger _logger = loggerFactory.CreateLogger("Shop.Hosting");
    private readonly bool _toTerminal = !executionContext.IsTesting;
    private readonly bool _showOutput = configuration.GetValue(ShowResourceOutputKey, true);
    private readonly bool _colors = !Console.IsOutputRedirected;
    private int _nameWidth = 10;

    public void SetNameWidth(int width) => _nameWidth = Math.Max(_nameWidth, width);

    public void ResourceOutput(string resourceId, string line, bool isStdErr)
    {
        if (!_toTerminal)
        {
            var logger = _resourceLoggers.GetOrAdd(resourceId, id => loggerFactory.CreateLogger($"Shop.Hosting.Resources.{id}"));
            var text = AnsiEscape().Replace(line, string.Empty);
            var level = _outputLevels.GetOrAdd((resourceId, isStdErr), _ => new OutputLevelReader()).LevelOf(text);
            logger.Log(level, "{Line}", text);
        }
        else if (_showOutput)
        {
            WriteLines([$"{Tag(resourceId)} | {(_colors ? line : AnsiEscape().Replace(line, string.Empty))}"], resourceId);
        }
    }

    /// <summary>Prints a state or health change worth seeing; a failure comes with the resource's last output.</summary>
    public void Progress(ResourceEvent resourceEvent, CustomResourceSnapshot? previous)
    {
        var snapshot = resourceEvent.Snapshot;
        var id = resourceEvent.ResourceId;
        if (previous?.State != snapshot.State)
        {
            switch (snapshot.State)
            {
                case KnownResourceStates.FailedToStart:
                    Failure(id, snapshot.StateDescription ?? "unknown reason");
                    return;
                case KnownResourceStates.Exited when snapshot.StateDescription is { } why:
                    Warning(id, why);
                    return;
            }
        }

        var text = previous?.State != snapshot.State
            ? snapshot.State switch
            {
                KnownResourceStates.Waiting => $"Waiting: {snapshot.StateDescription}",
                KnownResourceStates.Starting => "Starting",
                KnownResourceStates.Running when snapshot.ProcessId is { } pid => $"Running (pid {pid})",
                KnownResourceStates.Running => "Running",
                KnownResourceStates.Stopping => "Stopping",
                KnownResourceStates.Exited => $"Exited{(snapshot.ExitCode is { } code ? $" (code {code})" : string.Empty)}",
                KnownResourceStates.Finished => "Finished",
                _ => null,
            }
            : previous.HealthStatus != snapshot.HealthStatus && snapshot.State == KnownResourceStates.Running
                ? snapshot.HealthStatus switch
                {
                    HealthStatus.Healthy => "Healthy",
                    HealthStatus.Unhealthy when previous.HealthStatus == HealthStatus.Healthy => $"Unhealthy: {snapshot.HealthDescription}",
                    _ => null,
                }
                : null;

        if (text is null)
        {
            return;
        }

        if (_toTerminal)
        {
            WriteLine($"{Tag(id)}   {text}");
        }
        else
        {
            _logger.LogInformation("{Resource}: {State}", id, text);
        }
    }

    /// <summary>
    /// The output worth showing for a failed start: its last 20 lines, after the line a .NET crash begins with when
    /// that came earlier. A crash's message comes before its stack trace, which alone can fill the last lines.
    /// </summary>
    internal static List<string> OutputToShowOnFailure(IReadOnlyList<string> output)
    {
        const int lineCount = 20;
        var last = output.TakeLast(lineCount).ToList();
        var crash = output.Take(Math.Max(0, output.Count - lineCount))
            .LastOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal));
        return crash is null ? last : [crash, "…", .. last];
    }

    private void Failure(string resourceId, string reason)
    {
        var lastLines = OutputToShowOnFailure([.. resourceLogs.GetBacklog(resourceId).Select(l => AnsiEscape().Replace(l.Text, string.Empty))]);
        if (_toTerminal)
        {
            var lines = new List<string> { $"{Tag(resourceId)}   {Red("Failed to start")}: {reason}" };
            // Not again when its output was shown as it came and nothing else was printed since.
            if (lastLines.Count > 0 && !(_showOutput && IsLastLineFrom(resourceId)))
            {
                lines.Add($"{Tag(resourceId)}   The end of its output:");
                lines.AddRange(lastLines.Select(l => $"{Tag(resourceId)} | {l}"));
            }

            WriteLines(lines);
        }
        else
        {
            _logger.LogError("{Resource} failed to start: {Reason}{Output}", resourceId, reason,
                lastLines.Count > 0 ? Environment.NewLine + string.Join(Environment.NewLine, lastLines) : string.Empty);
        }
    }

    private void Warning(string resourceId, string message)
    {
        if (_toTerminal)
        {
            WriteLine($"{Tag(resourceId)}   {Yellow(message)}");
        }
        else
        {
            _logger.LogWarning("{Resource}: {Message}", resourceId, message);
        }
    }

    /// <summary>An address the Ready line lists beside the external endpoints (the dashboard's sign-in link).</summary>
    public void AddEntryPoint(string name, string url)
    {
        lock (_entryPoints)
        {
            _entryPoints.Add((name, url));
        }
    }

    /// <summary>Replaces an entry point's address with why it is not available (the dashboard exited).</summary>
    public void EntryPointFailed(string name, string why)
    {
        lock (_entryPoints)
        {
            var index = _entryPoints.FindIndex(e => e.Name == name);
            if (index >= 0)
            {
                _entryPoints[index] = (name, why);
            }
        }
    }

    public void Ready(int healthy, TimeSpan elapsed, IReadOnlyList<(string Name, string Url)> externalEndpoints)
    {
        var lines = new List<string> { $"Ready: {healthy} resources healthy in {elapsed.TotalSeconds:0.0}s" };
        lock (_entryPoints)
        {
            lines.AddRange(externalEndpoints.Concat(_entryPoints).Select(e => $"  {e.Name}: {e.Url}"));
        }

        Announce(lines);
    }

    public void StartedWithProblems(int healthy, int total, IReadOnlyList<string> problems)
    {
        var lines = new List<string> { $"Started with problems: {healthy} of {total} resources healthy." };
        lines.AddRange(problems.Select(p => $"  {p}"));
        Announce(lines);
    }

    /// <summary>Writes a line the user must see even when resource output is hidden (e.g. the dashboard's URL).</summary>
    public void Announce(IReadOnlyList<string> lines)
    {
        if (_toTerminal)
        {
            WriteLines(lines);
        }
        else
        {
            _logger.LogInformation("{Lines}", string.Join(Environment.NewLine, lines));
        }
    }

    /// <summary>A fatal configuration error in run mode: one clear line, no stack trace.</summary>
    public static void WriteFatal(string message)
    {
        lock (ConsoleLock)
        {
            Console.Error.WriteLine($"error: {message}");
        }
    }

    private string Tag(string resourceId)
    {
        var padded = resourceId.PadRight(_nameWidth);
        if (!_colors)
        {
            return padded;
        }

        var color = Palette[(int)((uint)StableHash(resourceId) % Palette.Length)];
        return $"{color}{padded}\e[0m";
    }

    private string Red(string text) => _colors ? $"\e[31m{text}\e[0m" : text;

    private string Yellow(string text) => _colors ? $"\e[33m{text}\e[0m" : text;

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }

    private static void WriteLine(string line) => WriteLines([line]);

    private static bool IsLastLineFrom(string resourceId)
    {
        lock (ConsoleLock)
        {
            return _lastLineFrom == resourceId;
        }
    }

    private static void WriteLines(IReadOnlyList<string> lines, string? outputOf = null)
    {
        var time = DateTime.Now.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        lock (ConsoleLock)
        {
            foreach (var line in lines)
            {
                Console.Out.WriteLine($"{time} {line}");
            }

            _lastLineFrom = outputOf;
        }
    }

    [GeneratedRegex(@"\x1B\[[0-9;?]*[ -/]*[@-~]")]
    private static partial Regex AnsiEscape();
}
