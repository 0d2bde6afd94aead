using System.Globalization;
using Microsoft.AspNetCore.Components;
using Shop.Dashboard.Model;

namespace Shop.Dashboard.Components.Controls;

/// <summary>An inline SVG line chart: time on the x axis, value on the y axis, one polyline per line.</summary>
public partial class LineChart
{
    private const double Width = 800, Height = 260, Left = 60, Right = 790, Top = 10, Bottom = 230;

    [Parameter, EditorRequired]
    public ChartModel Model { get; set; } = default!;

    [Parameter]
    public string? Unit { get; set; }

    private string Points(ChartLine line)
    {
        var span = Math.Max(1, (Model.End - Model.Start).Ticks);
        var range = Model.Max - Model.Min;
        return string.Join(' ', line.Points.Select(p =>
        {
            var x = Left + ((Right - Left) * (p.Time - Model.Start).Ticks / span);
            var y = Bottom - ((Bottom - Top) * (p.Value - Model.Min) / range);
            return string.Create(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#}");
        }));
    }
}
