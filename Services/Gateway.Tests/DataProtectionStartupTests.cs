using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>APIs that take bearer tokens skip Data Protection's key-ring load at start.</summary>
public class DataProtectionStartupTests
{
    private const string HostedServiceName = "DataProtectionHostedService";

    [Fact]
    public void AddAuthentication_alone_loads_the_key_ring_at_start()
    {
        // The canary: if ASP.NET Core renames or drops its hosted service, this fails and the removal needs a look.
        var services = new ServiceCollection();
        services.AddAuthentication();

        Assert.Contains(services, IsKeyRingLoader);
    }

    [Fact]
    public void The_default_bearer_authentication_does_not()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Identity:Url"] = "http://localhost:5000/";
        builder.AddDefaultAuthentication("products");

        Assert.DoesNotContain(builder.Services, IsKeyRingLoader);
        // Data Protection itself stays registered, for anything that asks for a protector.
        Assert.Contains(builder.Services, service => service.ServiceType.Name == "IDataProtectionProvider");
    }

    private static bool IsKeyRingLoader(ServiceDescriptor service) =>
        service.ServiceType == typeof(IHostedService) && service.ImplementationType?.Name == HostedServiceName;
}
