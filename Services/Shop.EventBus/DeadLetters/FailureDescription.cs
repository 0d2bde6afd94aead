using System.Text;

namespace Shop.EventBus;

/// <summary>
/// What a dead letter (or a failed replay) says went wrong. A wrapper's message can say nothing of the cause (EF Core's
/// <c>DbUpdateException</c>: "See the inner exception for details"), so the error is the chain of messages, outermost
/// first, each inner one with its type, and the root cause is also given on its own.
/// </summary>
internal sealed record FailureDescription(string Error, string ExceptionType, string RootError, string RootExceptionType)
{
    public const int MaxErrorLength = 4000;
    private const string InnerSeparator = " ---> ";
    private const string Elision = " …";

    public static FailureDescription Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var chain = new StringBuilder(exception.Message);
        var root = exception;
        string? rootSegment = null;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            root = inner;
            rootSegment = $"{InnerSeparator}{TypeName(inner)}: {inner.Message}";
            chain.Append(rootSegment);
        }

        return new FailureDescription(Bound(chain.ToString(), rootSegment), TypeName(exception), Truncate(root.Message, MaxErrorLength), TypeName(root));
    }

    /// <summary>A chain too long loses its middle, never its root cause (at the end).</summary>
    private static string Bound(string chain, string? rootSegment)
    {
        if (chain.Length <= MaxErrorLength)
        {
            return chain;
        }

        if (rootSegment is null)
        {
            return chain[..MaxErrorLength];
        }

        var tail = Truncate(rootSegment, MaxErrorLength / 2);
        return chain[..(MaxErrorLength - Elision.Length - tail.Length)] + Elision + tail;
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..length] : value;

    private static string TypeName(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;
}
