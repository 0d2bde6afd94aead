var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres").WithDataVolume();
var identityDb = postgres.AddDatabase("identitydb");
var productsDb = postgres.AddDatabase("productsdb");
var orderingDb = postgres.AddDatabase("orderingdb");
var paymentDb = postgres.AddDatabase("paymentdb");

var cache = builder.AddRedis("cache").WithDataVolume();

var identity = builder.AddProject<Projects.Identity_Api>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithHttpHealthCheck("/health");

var products = builder.AddProject<Projects.Products_Api>("products")
    .WithReference(productsDb).WaitFor(productsDb)
    .WithReference(cache).WaitFor(cache)
    .WithHttpHealthCheck("/health");

var ordering = builder.AddProject<Projects.Ordering_Api>("ordering")
    .WithReference(orderingDb).WaitFor(orderingDb)
    .WithReference(products)
    .WithHttpHealthCheck("/health");

var payment = builder.AddProject<Projects.Payment_Api>("payment")
    .WithReference(paymentDb).WaitFor(paymentDb)
    .WithHttpHealthCheck("/health");

// The single entry point for API clients: routes /api/{service}/… to the services found by service discovery.
var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithExternalHttpEndpoints()
    .WithReference(identity)
    .WithReference(products)
    .WithReference(ordering)
    .WithReference(payment)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Shop_Web>("web")
    .WithExternalHttpEndpoints()
    .WithReference(gateway).WaitFor(gateway)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
