using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Model;

public sealed record TelemetryResourceViewModel(TelemetryResource Resource, int Logs, int Spans, int MetricPoints);
