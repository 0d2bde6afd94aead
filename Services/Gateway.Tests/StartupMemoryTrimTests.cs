using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>Every Shop process gets from AddServiceDefaults one collection of its start-up garbage once it has started.</summary>
public class StartupMemoryTrimTests
{
    [Fact]
    public async Task A_started_host_runs_one_full_compacting_collection()
    {
        var before = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults();
        using var host = builder.Build();

        await host.StartAsync();
        try
        {
            // The collection runs on the thread pool after the start; nothing in this test process forces one.
            var waited = Stopwatch.StartNew();
            var after = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            while (after.Index == before && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
                after = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            }

            Assert.True(after.Index > before, "No full blocking collection followed the host's start.");
            Assert.True(after.Compacted);
            Assert.Equal(GC.MaxGeneration, after.Generation);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
