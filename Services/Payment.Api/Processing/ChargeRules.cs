using System.Globalization;
using Payment.Api.Model;

namespace Payment.Api.Processing;

/// <summary>What to do with a pending charge before it is sent.</summary>
public enum ChargeStep
{
    /// <summary>Send it under its idempotency key.</summary>
    Send,

    /// <summary>
    /// An earlier attempt may have reached the gateway: ask the gateway what became of the key before anything else.
    /// Sending it again could charge an order cancelled since; a lookup never charges.
    /// </summary>
    LookUp,

    /// <summary>The order was cancelled and the gateway never saw the charge: cancel it without a call.</summary>
    CancelUnsent,

    /// <summary>Its deadline passed before the gateway ever saw it: give up and fail the order, without a call.</summary>
    GiveUpUnsent,
}

/// <summary>What to do when the gateway could not settle a charge (down, failing, circuit open).</summary>
public enum UnsettledStep
{
    /// <summary>Before its deadline, or already given up: try again later.</summary>
    Wait,

    /// <summary>Deadline passed and no attempt ever reached the gateway: the charge failed, the order is cancelled.</summary>
    GiveUp,

    /// <summary>
    /// Deadline passed but an attempt may have reached the gateway: the order is cancelled now, and the charge is
    /// looked up under its key until the gateway answers, to be refunded if it went through.
    /// </summary>
    FailOrderAndResolveLater,
}

/// <summary>The payment processor's decisions about a charge, apart from the I/O, so they can be read and tested as rules.</summary>
public static class ChargeRules
{
    public static ChargeStep BeforeSending(PaymentRecord charge, bool mayHaveReachedGateway, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(charge);
        if (mayHaveReachedGateway)
        {
            // An earlier attempt's outcome is unknown: only the gateway's record of the key settles it.
            return ChargeStep.LookUp;
        }

        if (charge.CancelRequested)
        {
            return ChargeStep.CancelUnsent;
        }

        return now >= charge.Deadline ? ChargeStep.GiveUpUnsent : ChargeStep.Send;
    }

    /// <param name="charge">The charge, with <see cref="PaymentRecord.Attempts"/> counting only attempts that may have reached the gateway.</param>
    public static UnsettledStep WhenUnsettled(PaymentRecord charge, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(charge);
        if (charge.CancelRequested || now < charge.Deadline)
        {
            return UnsettledStep.Wait;
        }

        return charge.Attempts == 0 ? UnsettledStep.GiveUp : UnsettledStep.FailOrderAndResolveLater;
    }

    /// <summary>A deadline as a buyer reads it in a cancellation reason: "10 minutes", "90 seconds", "1 minute".</summary>
    public static string Describe(TimeSpan deadline) =>
        deadline.TotalSeconds % 60 == 0
            ? Plural(deadline.TotalMinutes, "minute")
            : Plural(Math.Round(deadline.TotalSeconds), "second");

    private static string Plural(double count, string unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:0.#} {unit}{(count == 1 ? "" : "s")}");

    /// <summary><paramref name="first"/> doubled per attempt that reached the gateway, at most <paramref name="max"/>.</summary>
    public static TimeSpan RetryDelay(int attempts, TimeSpan first, TimeSpan max) =>
        TimeSpan.FromTicks(Math.Min(first.Ticks << Math.Clamp(attempts - 1, 0, 20), max.Ticks));
}
