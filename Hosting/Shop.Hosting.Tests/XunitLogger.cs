using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>Forwards the app's logs (resource output included) to the test's output.</summary>
public sealed class XunitLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class XunitLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; late output from a stopping process has nowhere to go.
            }
        }
    }
}
