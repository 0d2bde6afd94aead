using Payment.Api.Model;
using Payment.Api.Processing;

namespace Payment.Tests;

public class ChargeRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static PaymentRecord Charge(int attempts = 0, bool cancelRequested = false, TimeSpan? deadlineIn = null) => new()
    {
        OrderId = Guid.NewGuid(),
        BuyerId = "buyer",
        Kind = PaymentKind.Charge,
        Amount = 10m,
        Currency = "USD",
        IdempotencyKey = "key",
        Attempts = attempts,
        CancelRequested = cancelRequested,
        Deadline = Now + (deadlineIn ?? TimeSpan.FromMinutes(10)),
    };

    [Fact]
    public void A_charge_before_its_deadline_is_sent()
    {
        Assert.Equal(ChargeStep.Send, ChargeRules.BeforeSending(Charge(), mayHaveReachedGateway: false, Now));
    }

    [Fact]
    public void A_cancelled_order_whose_charge_never_left_is_cancelled_without_a_call()
    {
        Assert.Equal(ChargeStep.CancelUnsent, ChargeRules.BeforeSending(Charge(cancelRequested: true), mayHaveReachedGateway: false, Now));
    }

    [Fact]
    public void A_charge_that_may_have_reached_the_gateway_is_always_looked_up_to_learn_its_outcome()
    {
        Assert.Equal(ChargeStep.LookUp, ChargeRules.BeforeSending(Charge(attempts: 1), mayHaveReachedGateway: true, Now));
        Assert.Equal(ChargeStep.LookUp, ChargeRules.BeforeSending(Charge(attempts: 1, cancelRequested: true), mayHaveReachedGateway: true, Now));
        Assert.Equal(ChargeStep.LookUp, ChargeRules.BeforeSending(Charge(attempts: 1, deadlineIn: TimeSpan.FromMinutes(-1)), mayHaveReachedGateway: true, Now));
    }

    [Fact]
    public void A_charge_never_sent_before_its_deadline_is_given_up_without_a_call()
    {
        Assert.Equal(ChargeStep.GiveUpUnsent, ChargeRules.BeforeSending(Charge(deadlineIn: TimeSpan.Zero), mayHaveReachedGateway: false, Now));
    }

    [Fact]
    public void While_the_gateway_is_down_a_charge_waits_until_its_deadline()
    {
        Assert.Equal(UnsettledStep.Wait, ChargeRules.WhenUnsettled(Charge(attempts: 3, deadlineIn: TimeSpan.FromSeconds(1)), Now));
    }

    [Fact]
    public void At_the_deadline_a_charge_the_gateway_never_saw_fails_the_order()
    {
        Assert.Equal(UnsettledStep.GiveUp, ChargeRules.WhenUnsettled(Charge(attempts: 0, deadlineIn: TimeSpan.Zero), Now));
    }

    [Fact]
    public void At_the_deadline_a_charge_the_gateway_may_have_taken_fails_the_order_but_is_resolved_later()
    {
        Assert.Equal(UnsettledStep.FailOrderAndResolveLater, ChargeRules.WhenUnsettled(Charge(attempts: 2, deadlineIn: TimeSpan.Zero), Now));
    }

    [Fact]
    public void A_charge_already_given_up_keeps_waiting_for_the_gateways_answer()
    {
        Assert.Equal(UnsettledStep.Wait, ChargeRules.WhenUnsettled(Charge(attempts: 2, cancelRequested: true, deadlineIn: TimeSpan.FromMinutes(-5)), Now));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 8)]
    [InlineData(5, 10)]
    [InlineData(60, 10)]
    public void Retries_back_off_exponentially_up_to_the_maximum(int attempts, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ChargeRules.RetryDelay(attempts, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(600, "10 minutes")]
    [InlineData(60, "1 minute")]
    [InlineData(90, "90 seconds")]
    [InlineData(8, "8 seconds")]
    [InlineData(1, "1 second")]
    public void A_deadline_reads_in_whole_minutes_or_else_in_seconds(int seconds, string expected)
    {
        Assert.Equal(expected, ChargeRules.Describe(TimeSpan.FromSeconds(seconds)));
    }
}
