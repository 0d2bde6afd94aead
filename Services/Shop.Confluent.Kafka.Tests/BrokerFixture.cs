using System.Diagnostics;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>Starts the project's broker on a free port with a temporary data directory; kills and deletes both at the end.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private const string Marker = "Kafka broker listening on ";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-client-tests", Guid.NewGuid().ToString("N"));
    private Process? _broker;

    public string BootstrapServers { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Shop.KafkaBroker.dll"), "--port", "0", "--data-dir", _dataDir })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _broker = new Process { StartInfo = info, EnableRaisingEvents = true };
        _broker.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith(Marker, StringComparison.Ordinal) == true)
            {
                listening.TrySetResult(e.Data[Marker.Length..].Trim());
            }
        };
        _broker.ErrorDataReceived += (_, _) => { };
        _broker.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The broker exited before listening."));
        _broker.Start();
        _broker.BeginOutputReadLine();
        _broker.BeginErrorReadLine();
        BootstrapServers = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (_broker is { HasExited: false })
        {
            _broker.Kill();
            await _broker.WaitForExitAsync();
        }

        _broker?.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }
}
