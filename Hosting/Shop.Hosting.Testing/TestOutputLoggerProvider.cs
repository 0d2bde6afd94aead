using Microsoft.Extensions.Logging;

namespace Shop.Hosting.Testing;

/// <summary>
/// Sends the app's logs — resource output included — to a test framework's output, e.g.
/// <c>builder.Services.AddLogging(l => l.AddProvider(new TestOutputLoggerProvider(output.WriteLine)))</c>.
/// </summary>
public sealed class TestOutputLoggerProvider(Action<string> writeLine, LogLevel minimumLevel = LogLevel.Information) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(writeLine, categoryName, minimumLevel);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(Action<string> writeLine, string category, LogLevel minimumLevel) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                writeLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; output from a process still stopping has nowhere to go.
            }
        }
    }
}
