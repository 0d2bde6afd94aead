using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Middleware;

/// <summary>
/// A replica that is down refuses every connection the gateway tries, and YARP's forwarder logs a warning with the
/// exception for each: under load, thousands a second from one dead process (<see cref="ReplicaFailover"/> hides the
/// failures from callers, not from the log). Instead, a destination that starts refusing connections gets one warning,
/// and one information line when it answers again, with how many connections it refused meanwhile; YARP's line for
/// each refusal is kept, at Debug. Any other forwarding failure (a service lost mid-answer, a timeout) stays YARP's
/// warning: it says something about one request.
/// <para>
/// The forwarder is wrapped to see each forward's outcome and the destination it went to. Its frame comes from a
/// pool, so a forward allocates nothing more; a forward that succeeds costs one lock-free dictionary probe.
/// </para>
/// </summary>
public static partial class DestinationOutageLog
{
    public static IReverseProxyBuilder LogDestinationOutages(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        var registered = proxy.Services.LastOrDefault(service => service.ServiceType == typeof(IHttpForwarder));
        // YARP's forwarder is internal: it is created here as YARP registered it, with a logger of its category that
        // moves the refusals it logs to Debug.
        if (registered?.ImplementationType is not { } yarpForwarder)
        {
            throw new InvalidOperationException("LogDestinationOutages needs YARP's own forwarder registered first: call it after AddReverseProxy().");
        }

        proxy.Services.Remove(registered);
        proxy.Services.AddSingleton<IHttpForwarder>(services =>
        {
            var forwarderLogger = Activator.CreateInstance(
                typeof(RefusalsAtDebugLogger<>).MakeGenericType(yarpForwarder), services.GetRequiredService<ILoggerFactory>())!;
            return new OutageLoggingForwarder(
                (IHttpForwarder)ActivatorUtilities.CreateInstance(services, yarpForwarder, forwarderLogger),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DestinationOutageLog)));
        });
        return proxy;
    }

    private sealed class OutageLoggingForwarder(IHttpForwarder forwarder, TimeProvider timeProvider, ILogger logger) : IHttpForwarder
    {
        /// <summary>Destinations (by address) refusing connections now; a restarted replica that reuses its address answers again.</summary>
        private readonly ConcurrentDictionary<string, Outage> _refusing = new(StringComparer.Ordinal);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<ForwarderError> SendAsync(
            HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer)
        {
            var result = await forwarder.SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer);
            if (result == ForwarderError.None)
            {
                if (_refusing.TryGetValue(destinationPrefix, out var outage) && _refusing.TryRemove(new(destinationPrefix, outage)))
                {
                    LogAnswersAgain(logger, Name(context), destinationPrefix, outage.Refused, (timeProvider.GetUtcNow() - outage.Since).TotalSeconds);
                }
            }
            else if (context.GetForwarderErrorFeature() is { } failure && UnreachableServices.NeverReachedService(failure))
            {
                Refused(context, destinationPrefix, failure.Exception!);
            }

            return result;
        }

        private void Refused(HttpContext context, string destinationPrefix, Exception exception)
        {
            if (_refusing.TryGetValue(destinationPrefix, out var outage))
            {
                Interlocked.Increment(ref outage.Refused);
                return;
            }

            outage = new Outage(timeProvider.GetUtcNow());
            if (_refusing.TryAdd(destinationPrefix, outage))
            {
                LogStartsRefusing(logger, Name(context), destinationPrefix, exception.Message);
            }
            else if (_refusing.TryGetValue(destinationPrefix, out var other))
            {
                // Another request saw the first refusal at the same moment, and warned.
                Interlocked.Increment(ref other.Refused);
            }
        }

        private static string Name(HttpContext context) =>
            context.GetReverseProxyFeature().ProxiedDestination?.DestinationId ?? "(unknown)";
    }

    private sealed class Outage(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public long Refused = 1;
    }

    /// <summary>YARP's forwarder's logger, with the warning it writes for each refused connection moved to Debug.</summary>
    private sealed class RefusalsAtDebugLogger<T>(ILoggerFactory loggers) : ILogger<T>
    {
        private readonly ILogger _logger = loggers.CreateLogger<T>();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => _logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => _logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _logger.Log(UnreachableServices.IsRefusedConnection(exception) ? LogLevel.Debug : logLevel, eventId, state, exception, formatter);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination {Destination} ({Address}) refuses connections ({Reason}); requests go to other replicas, " +
                                                       "or get 503 when none is left. Further refusals are logged at Debug until it answers again")]
    private static partial void LogStartsRefusing(ILogger logger, string destination, string address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {Destination} ({Address}) answers again, after {Refused} refused connections in {Seconds:0.#} s")]
    private static partial void LogAnswersAgain(ILogger logger, string destination, string address, long refused, double seconds);
}
