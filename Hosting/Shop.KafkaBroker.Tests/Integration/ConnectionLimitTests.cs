using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

/// <summary>Each test owns a broker with small connection limits.</summary>
public sealed class ConnectionLimitTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static byte[] ApiVersions(int correlationId) => RawConnection.Request(18, 0, correlationId, []);

    [Fact]
    public async Task Connections_over_max_connections_are_closed_at_once_and_accepted_again_once_one_ends()
    {
        await using var broker = await BrokerProcess.StartAsync("--max-connections", "2");
        using var first = await RawConnection.OpenAsync(broker.Port);
        using var second = await RawConnection.OpenAsync(broker.Port);
        await first.SendAsync(ApiVersions(1));
        await second.SendAsync(ApiVersions(2));
        Assert.NotNull(await first.ReadFrameAsync(Timeout));
        Assert.NotNull(await second.ReadFrameAsync(Timeout));

        using (var third = await RawConnection.OpenAsync(broker.Port))
        {
            await third.SendAsync(ApiVersions(3));
            Assert.Null(await third.ReadFrameAsync(Timeout));
        }

        Assert.Contains("2 connections are open (max-connections)", broker.Output);
        first.Dispose();
        await Wait.UntilAsync(() =>
        {
            using var next = RawConnection.OpenAsync(broker.Port).GetAwaiter().GetResult();
            next.SendAsync(ApiVersions(4)).GetAwaiter().GetResult();
            return next.ReadFrameAsync(Timeout).GetAwaiter().GetResult() is not null;
        }, Timeout, "a connection to be accepted after one ended");
    }

    [Fact]
    public async Task A_connection_idle_for_connections_max_idle_ms_is_closed()
    {
        await using var broker = await BrokerProcess.StartAsync("--connections-max-idle-ms", "1000");
        using var connection = await RawConnection.OpenAsync(broker.Port);
        await connection.SendAsync(ApiVersions(1));
        Assert.NotNull(await connection.ReadFrameAsync(Timeout));

        var idle = Stopwatch.StartNew();
        Assert.Null(await connection.ReadFrameAsync(Timeout));
        Assert.InRange(idle.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_connection_that_does_not_authenticate_in_time_is_closed_while_an_authenticated_one_stays()
    {
        await using var broker = await BrokerProcess.StartAsync(
            new Dictionary<string, string> { ["KafkaBroker__Sasl__Users__admin__Password"] = "admin-Secret-1" },
            "--sasl-authentication-timeout-ms", "1500");
        // The time runs from the connection's opening: on a busy host the ApiVersions answer alone can take most of it.
        var waiting = Stopwatch.StartNew();
        using var anonymous = await RawConnection.OpenAsync(broker.Port);
        await anonymous.SendAsync(ApiVersions(1));
        Assert.NotNull(await anonymous.ReadFrameAsync(Timeout));

        Assert.Null(await anonymous.ReadFrameAsync(Timeout));
        Assert.InRange(waiting.Elapsed, TimeSpan.FromMilliseconds(1400), TimeSpan.FromSeconds(10));
        Assert.Contains("SASL authentication not completed within 1500 ms", broker.Output);

        using var signedIn = await RawConnection.OpenAsync(broker.Port);
        await signedIn.SendAsync(RawConnection.Request(17, 1, 2, KafkaString("PLAIN")));
        Assert.NotNull(await signedIn.ReadFrameAsync(Timeout));
        var token = Encoding.UTF8.GetBytes("\0admin\0admin-Secret-1");
        await signedIn.SendAsync(RawConnection.Request(36, 1, 3, [0, 0, 0, (byte)token.Length, .. token]));
        var authenticated = await signedIn.ReadFrameAsync(Timeout);
        Assert.NotNull(authenticated);
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(authenticated.AsSpan(4)));

        // Past the time an unauthenticated connection gets.
        await Task.Delay(2000);
        await signedIn.SendAsync(RawConnection.Request(3, 1, 4, [0, 0, 0, 0]));
        Assert.NotNull(await signedIn.ReadFrameAsync(Timeout));
    }

    private static byte[] KafkaString(string value) => [0, (byte)value.Length, .. Encoding.UTF8.GetBytes(value)];
}
