using System.Diagnostics;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>The project's broker run as a process of its own, on a data directory the caller owns.</summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private const string Marker = "Kafka broker listening on ";
    private readonly Process _process;
    private int _disposed;

    private BrokerProcess(Process process, string bootstrapServers)
    {
        _process = process;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    /// <summary>Starts a broker on <paramref name="port"/> (0: a free one) and waits until it listens.</summary>
    public static async Task<BrokerProcess> StartAsync(string dataDir, int port = 0)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Shop.KafkaBroker.dll"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDir })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(Marker, StringComparison.Ordinal) == true)
            {
                listening.TrySetResult(e.Data[Marker.Length..].Trim());
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The broker exited before listening."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new BrokerProcess(process, await listening.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        catch
        {
            await KillAsync(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Kills the broker, as a crash or a stopped resource would end it; once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await KillAsync(_process);
        _process.Dispose();
    }

    private static async Task KillAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
