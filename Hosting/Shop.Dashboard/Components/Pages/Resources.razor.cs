using Microsoft.AspNetCore.Components;
using Microsoft.FluentUI.AspNetCore.Components;
using Shop.Dashboard.Contracts;
using Shop.Dashboard.Model;
using Shop.Dashboard.ResourceService;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components.Pages;

public partial class Resources
{
    private static readonly string[] KnownCommands = [ResourceCommands.Start, ResourceCommands.Stop, ResourceCommands.Restart];

    private readonly HashSet<string> _expanded = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _busy = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyList<ResourceSnapshot> _resources = [];
    private IReadOnlyList<TelemetryResourceViewModel> _telemetryResources = [];
    private IDisposable? _stateSubscription;
    private string? _commandMessage;

    [Inject]
    private ResourceStateStore ResourceState { get; set; } = default!;

    [Inject]
    private ResourceServiceClient ResourceClient { get; set; } = default!;

    [Inject]
    private TelemetryResourceRegistry TelemetryResources { get; set; } = default!;

    [Inject]
    private LogStore Logs { get; set; } = default!;

    [Inject]
    private TraceStore Traces { get; set; } = default!;

    [Inject]
    private MetricStore Metrics { get; set; } = default!;

    protected override TelemetrySignals Signals => ResourceState.IsConfigured ? TelemetrySignals.None : TelemetrySignals.All;

    protected override void OnInitialized()
    {
        base.OnInitialized();
        if (RendererInfo.IsInteractive && ResourceState.IsConfigured)
        {
            _stateSubscription = ResourceState.Subscribe(RequestRefresh);
        }
    }

    protected override void Refresh()
    {
        if (ResourceState.IsConfigured)
        {
            _resources = ResourceState.Resources;
        }
        else
        {
            _telemetryResources = [.. TelemetryResources.All.Select(r => new TelemetryResourceViewModel(r, Logs.CountFor(r), Traces.SpanCountFor(r), Metrics.PointCountFor(r)))];
        }
    }

    private void ToggleDetails(string name)
    {
        if (!_expanded.Remove(name))
        {
            _expanded.Add(name);
        }
    }

    private async Task ExecuteAsync(string resource, string command)
    {
        _busy.Add(resource);
        _commandMessage = $"{CommandLabel(command)} {resource}…";
        try
        {
            var outcome = await ResourceClient.ExecuteCommandAsync(resource, command, Disposed);
            _commandMessage = outcome switch
            {
                CommandOutcome.Accepted => $"{CommandLabel(command)} requested for {resource}.",
                CommandOutcome.UnknownResource => $"The AppHost does not know {resource}.",
                CommandOutcome.NotApplicable => $"{CommandLabel(command)} does not apply to {resource} in its current state.",
                _ => $"{CommandLabel(command)} of {resource} failed.",
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            _commandMessage = $"{CommandLabel(command)} of {resource} failed: {ex.Message}";
        }
        finally
        {
            _busy.Remove(resource);
        }
    }

    private static string CommandLabel(string command) => command switch
    {
        ResourceCommands.Start => "Start",
        ResourceCommands.Stop => "Stop",
        ResourceCommands.Restart => "Restart",
        _ => command,
    };

    private static BadgeColor StateColor(string state) => state switch
    {
        KnownResourceStates.Running => BadgeColor.Success,
        KnownResourceStates.Starting or KnownResourceStates.Waiting or KnownResourceStates.Stopping => BadgeColor.Warning,
        KnownResourceStates.FailedToStart => BadgeColor.Danger,
        _ => BadgeColor.Subtle,
    };

    private static string ExitCode(ResourceSnapshot resource) =>
        resource.ExitCode is { } code && resource.State is KnownResourceStates.Exited or KnownResourceStates.Finished or KnownResourceStates.FailedToStart
            ? $" (exit code {code})"
            : string.Empty;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stateSubscription?.Dispose();
        }

        base.Dispose(disposing);
    }
}
