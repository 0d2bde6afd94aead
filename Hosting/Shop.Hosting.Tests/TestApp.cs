using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>Shared set-up for tests that run resources for real.</summary>
internal static class TestApp
{
    public static IDistributedApplicationTestingBuilder Create(ITestOutputHelper output, params string[] args)
    {
        var builder = DistributedApplicationTestingBuilder.Create(args);
        builder.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(output.WriteLine)));
        return builder;
    }

    public static CancellationToken Timeout(int seconds = 90) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>Every descendant of a process, read from /proc.</summary>
    public static IReadOnlyList<int> DescendantsOf(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var child))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(child);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        var result = new List<int>();
        var pending = new Queue<int>([pid]);
        while (pending.TryDequeue(out var next))
        {
            foreach (var child in children.GetValueOrDefault(next) ?? [])
            {
                result.Add(child);
                pending.Enqueue(child);
            }
        }

        return result;
    }

    public static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    /// <summary>Polls until the condition holds or the deadline passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
