using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Products.Tests.Integration;

/// <summary>
/// A redis-server of one test's own, which the test can kill (as <c>kill -9</c> would) and start again on the same port
/// with the data it had: append-only, every write synced, like the AppHost's Redis with its data volume.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("products-tests-redis-").FullName;
    private readonly int _port = FreePort();
    private Process? _process;

    private RedisServer()
    {
    }

    public string ConnectionString => $"127.0.0.1:{_port}";

    public static async Task<RedisServer> StartAsync(CancellationToken cancellationToken)
    {
        var server = new RedisServer();
        await server.RestartAsync(cancellationToken);
        return server;
    }

    /// <summary>Starts the server (again), and returns once it answers.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--dir", _directory, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Kills the server without letting it close anything (SIGKILL) and waits until it is gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        if (_process is { } process)
        {
            process.Kill();
            await process.WaitForExitAsync(cancellationToken);
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>
    /// Stops the server's process (SIGSTOP) without closing its connections: Redis as a network partition or a long
    /// pause leaves it, connected but answering nothing, until <see cref="ResumeAsync"/>.
    /// </summary>
    public Task PauseAsync(CancellationToken cancellationToken) => SignalAsync("STOP", cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => SignalAsync("CONT", cancellationToken);

    private async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        var pid = _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellationToken);
    }

    /// <summary>Waits until the server holds <paramref name="key"/>.</summary>
    public async Task WaitForKeyAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        while (!await connection.GetDatabase().KeyExistsAsync(key))
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync(CancellationToken.None);
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
