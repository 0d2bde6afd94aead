using System.Diagnostics;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>Runs Debian's kcat against the broker with librdkafka protocol debugging on.</summary>
public static class Kcat
{
    public const string Path = "/usr/bin/kcat";

    public static ProcessStartInfo StartInfo(string bootstrap, IEnumerable<string> args)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException("kcat is not installed: apt-get install kcat (the CI script installs it).");
        }

        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-b", bootstrap, "-X", $"debug={ClientLog.DebugContexts}", .. args])
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string bootstrap, string? input, params string[] args)
    {
        using var process = Process.Start(StartInfo(bootstrap, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"kcat {string.Join(' ', args)} did not finish:\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
