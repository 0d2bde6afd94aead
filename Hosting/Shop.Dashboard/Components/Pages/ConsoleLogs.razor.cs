using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Model;
using Shop.Dashboard.ResourceService;

namespace Shop.Dashboard.Components.Pages;

/// <summary>
/// A live tail of one resource's console, streamed from the resource service while the page is open. The stream
/// is re-opened (backlog first) when it ends, e.g. across a restart of the AppHost.
/// </summary>
public partial class ConsoleLogs
{
    private const int MaxLines = 10_000;
    private const int MaxRendered = 2_000;

    private readonly Lock _lock = new();
    private readonly List<ConsoleLineViewModel> _lines = [];
    private CancellationTokenSource? _stream;
    private string? _streaming;
    private string _status = string.Empty;
    private int _renderPending;

    [Parameter]
    public string? ResourceName { get; set; }

    [Inject]
    private ResourceStateStore ResourceState { get; set; } = default!;

    [Inject]
    private ResourceServiceClient ResourceClient { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider TimeProvider { get; set; } = default!;

    private string Search { get; set; } = string.Empty;

    protected override void OnParametersSet()
    {
        if (!RendererInfo.IsInteractive || !ResourceState.IsConfigured || string.Equals(_streaming, ResourceName, StringComparison.Ordinal))
        {
            return;
        }

        _stream?.Cancel();
        _stream?.Dispose();
        _stream = null;
        _streaming = ResourceName;
        lock (_lock)
        {
            _lines.Clear();
        }

        if (!string.IsNullOrEmpty(ResourceName))
        {
            _stream = new CancellationTokenSource();
            _ = FollowAsync(ResourceName, _stream.Token);
        }
    }

    private void SelectResource(ChangeEventArgs e)
    {
        var name = e.Value?.ToString();
        Navigation.NavigateTo(string.IsNullOrEmpty(name) ? "consolelogs" : $"consolelogs/{Uri.EscapeDataString(name)}");
    }

    private IEnumerable<ConsoleLineViewModel> VisibleLines()
    {
        lock (_lock)
        {
            IEnumerable<ConsoleLineViewModel> lines = _lines;
            if (!string.IsNullOrEmpty(Search))
            {
                lines = lines.Where(l => l.PlainText.Contains(Search, StringComparison.OrdinalIgnoreCase));
            }

            return lines.TakeLast(MaxRendered).ToList();
        }
    }

    private async Task FollowAsync(string resource, CancellationToken cancellationToken)
    {
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            SetStatus("Connecting…");
            try
            {
                var first = true;
                await foreach (var line in ResourceClient.WatchConsoleLogsAsync(resource, cancellationToken))
                {
                    if (first)
                    {
                        // The stream starts with the backlog again, so a reconnect starts from a clean slate.
                        lock (_lock)
                        {
                            _lines.Clear();
                        }

                        first = false;
                        attempt = 0;
                        SetStatus("Live");
                    }

                    lock (_lock)
                    {
                        _lines.Add(AnsiParser.ToViewModel(line.LineNumber, line.Timestamp, line.Text, line.IsStdErr));
                        if (_lines.Count > MaxLines)
                        {
                            _lines.RemoveRange(0, _lines.Count - MaxLines);
                        }
                    }

                    ScheduleRender();
                }

                SetStatus(first ? "Live (no output yet)" : "Stream ended; reconnecting…");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException)
            {
                SetStatus($"Disconnected: {ex.Message}");
            }

            attempt++;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * (1 << Math.Min(attempt, 6)))), TimeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void SetStatus(string status)
    {
        _status = status;
        ScheduleRender();
    }

    private void ScheduleRender()
    {
        if (Interlocked.Exchange(ref _renderPending, 1) == 1)
        {
            return;
        }

        _ = RenderLaterAsync();
    }

    private async Task RenderLaterAsync()
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150), TimeProvider, _stream?.Token ?? CancellationToken.None);
            Volatile.Write(ref _renderPending, 0);
            await InvokeAsync(StateHasChanged);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            Volatile.Write(ref _renderPending, 0);
        }
    }

    public void Dispose()
    {
        _stream?.Cancel();
        _stream?.Dispose();
        _stream = null;
    }
}
