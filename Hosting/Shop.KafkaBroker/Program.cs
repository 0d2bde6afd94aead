using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Extensions;

Dictionary<string, string?> commandLine;
BrokerOptions options;
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
try
{
    commandLine = BrokerSettings.ParseCommandLine(args, out var helpRequested);
    if (helpRequested)
    {
        Console.WriteLine(BrokerSettings.Usage);
        return 0;
    }

    builder.Configuration.AddInMemoryCollection(commandLine);
    options = BrokerSettings.Read(builder.Configuration);
}
catch (BrokerConfigurationException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}

builder.AddBrokerTelemetry();
builder.AddKafkaBroker(options);

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
