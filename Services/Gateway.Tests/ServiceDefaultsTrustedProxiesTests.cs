using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary><c>ForwardedHeaders:KnownNetworks</c>, as the service defaults read it for every service.</summary>
public class ServiceDefaultsTrustedProxiesTests
{
    [Fact]
    public void A_list_and_one_value_with_commas_give_the_same_networks_and_an_address_alone_is_a_network_of_one()
    {
        var fromList = Read(new()
        {
            [$"{TrustedProxyExtensions.KnownNetworksKey}:0"] = "10.244.0.0/16",
            [$"{TrustedProxyExtensions.KnownNetworksKey}:1"] = "fd00::/8",
            [$"{TrustedProxyExtensions.KnownNetworksKey}:2"] = "192.0.2.10",
        });
        var fromValue = Read(new() { [TrustedProxyExtensions.KnownNetworksKey] = " 10.244.0.0/16,fd00::/8 ; 192.0.2.10 " });

        string[] expected = ["10.244.0.0/16", "fd00::/8", "192.0.2.10/32"];
        Assert.Equal(expected, fromList.Select(n => n.ToString()));
        Assert.Equal(expected, fromValue.Select(n => n.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void None_set_means_loopback_only(string? value)
    {
        Assert.Empty(Read(new() { [TrustedProxyExtensions.KnownNetworksKey] = value }));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("pods")]
    [InlineData("10.0.0.0/")]
    public void A_value_that_is_not_a_network_stops_the_service_naming_it(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(new() { [TrustedProxyExtensions.KnownNetworksKey] = $"10.244.0.0/16,{value}" }));

        Assert.Contains(TrustedProxyExtensions.KnownNetworksKey, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
    }

    private static IReadOnlyList<IPNetwork> Read(Dictionary<string, string?> settings) =>
        TrustedProxyExtensions.ReadKnownNetworks(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
}
