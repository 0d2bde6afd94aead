namespace Shop.EventBus.Tests;

public sealed class FailureDescriptionTests
{
    [Fact]
    public void An_exception_without_an_inner_one_is_its_own_root_cause()
    {
        var failure = FailureDescription.Of(new InvalidOperationException("the account is frozen"));

        Assert.Equal("the account is frozen", failure.Error);
        Assert.Equal("System.InvalidOperationException", failure.ExceptionType);
        Assert.Equal("the account is frozen", failure.RootError);
        Assert.Equal("System.InvalidOperationException", failure.RootExceptionType);
    }

    [Fact]
    public void The_error_is_the_chain_of_messages_with_the_root_cause_last()
    {
        var failure = FailureDescription.Of(new InvalidOperationException("saving failed",
            new AggregateException("one of them", new TimeoutException("the disk is full"))));

        Assert.Equal(
            "saving failed ---> System.AggregateException: one of them (the disk is full) ---> System.TimeoutException: the disk is full",
            failure.Error);
        Assert.Equal("System.InvalidOperationException", failure.ExceptionType);
        Assert.Equal("the disk is full", failure.RootError);
        Assert.Equal("System.TimeoutException", failure.RootExceptionType);
    }

    [Fact]
    public void A_chain_too_long_loses_its_middle_and_keeps_its_root_cause()
    {
        var failure = FailureDescription.Of(new InvalidOperationException("outer " + new string('a', 5000),
            new InvalidOperationException(new string('b', 5000), new TimeoutException("the root cause"))));

        Assert.Equal(FailureDescription.MaxErrorLength, failure.Error.Length);
        Assert.StartsWith("outer aaa", failure.Error, StringComparison.Ordinal);
        Assert.EndsWith(" … ---> System.TimeoutException: the root cause", failure.Error, StringComparison.Ordinal);
        Assert.Equal("the root cause", failure.RootError);
    }

    [Fact]
    public void A_long_message_alone_is_cut_to_the_limit() =>
        Assert.Equal(FailureDescription.MaxErrorLength, FailureDescription.Of(new InvalidOperationException(new string('a', 5000))).Error.Length);
}
