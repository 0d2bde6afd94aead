using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Payment.Api.Gateway;

namespace Payment.Tests;

/// <summary>
/// The circuit breaker's window follows the attempt timeout: with 10 s tries its old fixed 10 s window could not hold
/// two waves of timed-out tries, so a hung gateway with a few payments in flight never opened the circuit.
/// </summary>
public sealed class PaymentGatewayOptionsTests
{
    [Fact]
    public void Unset_the_window_is_twice_the_attempt_timeout()
    {
        var options = Resolve(new() { ["PaymentGateway:AttemptTimeout"] = "00:00:07" });

        Assert.Equal(TimeSpan.FromSeconds(14), options.EffectiveSamplingDuration);
    }

    [Fact]
    public void A_window_set_shorter_than_two_attempts_stops_the_start_with_a_message_naming_both()
    {
        var exception = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["PaymentGateway:AttemptTimeout"] = "00:00:10",
            ["PaymentGateway:SamplingDuration"] = "00:00:10",
        }));

        Assert.Contains("PaymentGateway:SamplingDuration must be at least twice PaymentGateway:AttemptTimeout", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_window_set_longer_is_kept()
    {
        var options = Resolve(new()
        {
            ["PaymentGateway:AttemptTimeout"] = "00:00:10",
            ["PaymentGateway:SamplingDuration"] = "00:01:00",
        });

        Assert.Equal(TimeSpan.FromMinutes(1), options.EffectiveSamplingDuration);
    }

    private static PaymentGatewayOptions Resolve(Dictionary<string, string?> settings)
    {
        settings["PaymentGateway:ApiKey"] = "secret-key";
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.AddPaymentGatewayClient();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<PaymentGatewayOptions>>().Value;
    }
}
