using System.Diagnostics;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests;

public sealed class LifetimeTests
{
    [Fact]
    public async Task The_dashboard_stops_when_its_parent_process_exits()
    {
        using var timeout = Poll.Timeout();
        using var parent = Process.Start(new ProcessStartInfo("sleep", ["120"]))!;
        try
        {
            await using var dashboard = await DashboardProcess.StartAsync(
                new Dictionary<string, string> { ["Dashboard__ParentProcessId"] = $"{parent.Id}" }, secured: false, cancellationToken: timeout.Token);
            Assert.False(dashboard.HasExited);

            parent.Kill();
            await dashboard.WaitForExitAsync(timeout.Token);
            Assert.Contains($"Parent process {parent.Id} exited", dashboard.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (!parent.HasExited)
            {
                parent.Kill();
            }
        }
    }
}
