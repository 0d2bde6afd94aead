namespace Shop.EventBus;

/// <summary>
/// Thrown by a handler when no later attempt can succeed: the event names something this service does not have, or
/// asks for what no later state will allow. The consumer dead-letters the message after this one attempt instead of
/// retrying it, so the messages behind it on its partition do not wait out the backoff. Derive from it for the
/// service's own cases; anything else a handler throws is retried.
/// </summary>
public class NonRetryableEventException(string message, Exception? innerException = null) : Exception(message, innerException);
