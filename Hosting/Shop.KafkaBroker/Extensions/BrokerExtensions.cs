using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Handlers;
using Shop.KafkaBroker.Network;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Extensions;

public static class BrokerExtensions
{
    /// <summary>Registers the broker: storage, group coordinator, request handlers and the TCP server.</summary>
    public static IHostApplicationBuilder AddKafkaBroker(this IHostApplicationBuilder builder, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<BrokerEndpoint>();
        services.AddSingleton<ClusterIdentity>();
        services.AddSingleton<FlushScheduler>();
        services.AddSingleton<TopicStore>();
        services.AddSingleton<OffsetStore>();
        services.AddSingleton<GroupCoordinator>();
        services.AddSingleton<BrokerMetrics>();
        services.AddSingleton<ProduceHandler>();
        services.AddSingleton<FetchHandler>();
        services.AddSingleton<MetadataHandler>();
        services.AddSingleton<AdminHandler>();
        services.AddSingleton<GroupHandler>();
        services.AddSingleton<BrokerSecurity>();
        services.AddSingleton<SaslHandler>();
        services.AddSingleton<RequestDispatcher>();
        services.AddHostedService<KafkaServer>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        return builder;
    }
}
