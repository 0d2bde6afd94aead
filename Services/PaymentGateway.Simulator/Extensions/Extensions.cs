using PaymentGateway.Simulator.Ledger;

namespace PaymentGateway.Simulator.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddSimulator(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        builder.Services.AddOptions<SimulatorOptions>()
            .Bind(builder.Configuration.GetSection(SimulatorOptions.SectionName))
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey) && !string.IsNullOrWhiteSpace(o.AdminKey),
                "Simulator:ApiKey and Simulator:AdminKey must be set (the AppHost passes its parameters payment-gateway-api-key and payment-gateway-admin-key).")
            .Validate(o => o.Behavior.IsValid(out _), "Simulator: LatencyMs must be 0–60000 and DeclineRate and FailureRate between 0 and 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SimulatorBehavior>();
        builder.Services.AddSingleton<PaymentLedger>();
        builder.Services.AddSingleton(TimeProvider.System);

        return builder;
    }
}
