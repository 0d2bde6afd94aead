using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Components;

/// <summary>
/// A page that re-queries and re-renders when telemetry arrives, at most every <see cref="RefreshInterval"/>: a flood of
/// telemetry costs one refresh per interval per open page, not one per batch.
/// </summary>
public abstract class LivePageBase : ComponentBase, IDisposable
{
    protected static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(300);

    private readonly CancellationTokenSource _disposed = new();
    private IDisposable? _subscription;
    private int _pending;

    [Inject]
    protected TelemetryChangeNotifier Notifier { get; set; } = default!;

    [Inject]
    protected TimeProvider TimeProvider { get; set; } = default!;

    protected abstract TelemetrySignals Signals { get; }

    protected CancellationToken Disposed => _disposed.Token;

    /// <summary>Reads the page's data from the stores; runs on the renderer's sync context.</summary>
    protected abstract void Refresh();

    protected override void OnInitialized()
    {
        if (RendererInfo.IsInteractive)
        {
            _subscription = Notifier.Subscribe(Signals, RequestRefresh);
        }
    }

    protected override void OnParametersSet() => Refresh();

    /// <summary>Schedules a throttled refresh; safe to call from any thread.</summary>
    protected void RequestRefresh()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _ = RefreshLaterAsync();
        }
    }

    private async Task RefreshLaterAsync()
    {
        try
        {
            await Task.Delay(RefreshInterval, TimeProvider, _disposed.Token);
            Volatile.Write(ref _pending, 0);
            await InvokeAsync(() =>
            {
                Refresh();
                StateHasChanged();
            });
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The page went away while a refresh was pending.
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _subscription?.Dispose();
            _disposed.Cancel();
            _disposed.Dispose();
        }
    }
}
