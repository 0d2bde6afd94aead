using Yarp.ReverseProxy.Configuration;

// A bare YARP proxy forwarding everything to --Destination, as in the reference measurement.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();

var destination = builder.Configuration["Destination"]
    ?? throw new InvalidOperationException("Pass --Destination=http://host:port (the products service).");
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = destination } } }]);

var app = builder.Build();
app.MapReverseProxy();
app.Run();
