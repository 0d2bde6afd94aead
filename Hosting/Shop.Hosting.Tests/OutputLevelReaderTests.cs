using Microsoft.Extensions.Logging;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Tests;

public sealed class OutputLevelReaderTests
{
    [Fact]
    public void An_entry_of_the_simple_console_formatter_keeps_its_level_on_its_indented_lines()
    {
        var reader = new OutputLevelReader();
        string[] lines =
        [
            "info: Microsoft.Hosting.Lifetime[14]",
            "      Now listening on: http://127.0.0.1:5000",
            "warn: Shop.EventBus.Consuming.EventConsumer[3]",
            "      Handling failed; retrying in 200 ms",
            "fail: Microsoft.AspNetCore.Server.Kestrel[13]",
            "      System.InvalidOperationException: boom",
            "         at Ordering.Api.Apis.OrdersApi.PlaceAsync()",
            "crit: Microsoft.Hosting.Lifetime[0]",
            "dbug: Npgsql.Command[2000]",
            "trce: Npgsql.Connection[1000]",
            "Unhandled exception. System.Exception: not from a logger",
            "   at Program.<Main>$(String[] args)",
            "warn:no space after the colon is not a level",
            "",
        ];

        Assert.Equal(
            [
                LogLevel.Information, LogLevel.Information,
                LogLevel.Warning, LogLevel.Warning,
                LogLevel.Error, LogLevel.Error, LogLevel.Error,
                LogLevel.Critical, LogLevel.Debug, LogLevel.Trace,
                LogLevel.Information, LogLevel.Information,
                LogLevel.Information, LogLevel.Information,
            ],
            lines.Select(reader.LevelOf));
    }
}
