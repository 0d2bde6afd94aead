var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres").WithDataVolume();
var identityDb = postgres.AddDatabase("identitydb");
var productsDb = postgres.AddDatabase("productsdb");
var orderingDb = postgres.AddDatabase("orderingdb");
var paymentDb = postgres.AddDatabase("paymentdb");

var cache = builder.AddRedis("cache").WithDataVolume();

// Events between services: the project's Kafka-wire-compatible broker locally, a real cluster via ConnectionStrings:kafka.
// Locally each service that references it signs in as its own SASL user (generated password) and may produce only to
// the topics it publishes (Shop.IntegrationEvents' Topics) and to its dead-letter topic ({consumer group}.dead-letter).
var kafka = builder.AddKafka("kafka").WithDataVolume();

// Parameters with a kind of value (AsWholeNumber, AsDuration, …) are checked when the AppHost starts: a wrong one is a
// one-line error naming the parameter. Gateway rate limits: requests per window, per signed-in user and per anonymous
// client address.
var rateLimit = builder.AddParameter("gateway-rate-limit", "100").AsWholeNumber(1, int.MaxValue);
var anonymousRateLimit = builder.AddParameter("gateway-rate-limit-anonymous", "600").AsWholeNumber(1, int.MaxValue);
var rateLimitWindow = builder.AddParameter("gateway-rate-limit-window-seconds", "10").AsWholeNumber(1, 86_400);
// Proxies besides loopback whose X-Forwarded-For names the client (networks, comma-separated): in a cluster the pod
// network, where the storefront and any ingress run. Locally they all run on loopback.
var trustedProxyNetworks = builder.AddParameter("trusted-proxy-networks", "")
    .WithDescription("the networks of the storefront's pods and of any ingress, e.g. 10.244.0.0/16: without them every anonymous visitor shares one rate limit");
// The gateway's cache of anonymous catalog reads; "false" sends every request on to the service (bench/gateway does).
var gatewayResponseCache = builder.AddParameter("gateway-response-cache", "true").AsBoolean();
var lockoutAttempts = builder.AddParameter("identity-lockout-attempts", "5").AsWholeNumber(1, int.MaxValue);
var accessTokenLifetime = builder.AddParameter("identity-access-token-lifetime", "00:15:00").AsDuration();
var webClientSecret = builder.AddParameter("web-client-secret", secret: true);
// Encrypts identity's keys in identitydb. Generated once like the passwords; keys stored with it cannot be read with
// another value, so a deployment keeps the value it started with.
var identityKeyEncryptionSecret = builder.AddParameter("identity-key-encryption-secret", secret: true);
// Outside Development nobody is an admin until identity creates this account (only while no admin exists).
var firstAdminEmail = builder.AddParameter("identity-first-admin-email", "admin@shop.example");
var firstAdminPassword = builder.AddParameter("identity-first-admin-password", secret: true);

var identity = builder.AddProject<Projects.Identity_Api>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithEnvironment("ForwardedHeaders__KnownNetworks", trustedProxyNetworks)
    .WithHttpHealthCheck("/health");

var products = builder.AddProject<Projects.Products_Api>("products")
    .WithReference(productsDb).WaitFor(productsDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(kafka).WaitFor(kafka)
    .WithKafkaWriteAccess(kafka, "products.stock", "products.catalog", "products.dead-letter")
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

var ordering = builder.AddProject<Projects.Ordering_Api>("ordering")
    .WithReference(orderingDb).WaitFor(orderingDb)
    .WithReference(kafka).WaitFor(kafka)
    .WithKafkaWriteAccess(kafka, "ordering.orders", "ordering.dead-letter")
    .WithReference(products)
    .WithReference(identity)
    .WithHttpHealthCheck("/health");

// An external card payment gateway, simulated: payment charges and refunds orders against it with its API key; tests
// and operators switch its behaviour at run time with the admin key.
var paymentGatewayLatency = builder.AddParameter("payment-gateway-latency-ms", "25").AsWholeNumber(0, 60_000);
var paymentGatewayDeclineRate = builder.AddParameter("payment-gateway-decline-rate", "0").AsNumber(0, 1);
var paymentGatewayFailureRate = builder.AddParameter("payment-gateway-failure-rate", "0").AsNumber(0, 1);
var paymentGatewayApiKey = builder.AddParameter("payment-gateway-api-key", secret: true);
var paymentGatewayAdminKey = builder.AddParameter("payment-gateway-admin-key", secret: true);
var paymentGateway = builder.AddProject<Projects.PaymentGateway_Simulator>("payment-gateway")
    .WithEnvironment("Simulator__LatencyMs", paymentGatewayLatency)
    .WithEnvironment("Simulator__DeclineRate", paymentGatewayDeclineRate)
    .WithEnvironment("Simulator__FailureRate", paymentGatewayFailureRate)
    .WithEnvironment("Simulator__ApiKey", paymentGatewayApiKey)
    .WithEnvironment("Simulator__AdminKey", paymentGatewayAdminKey)
    .WithHttpHealthCheck("/health");

// How long an order waits for a failing card gateway before it is cancelled.
var chargeDeadline = builder.AddParameter("payment-charge-deadline", "00:10:00").AsDuration();
var payment = builder.AddProject<Projects.Payment_Api>("payment")
    .WithReference(paymentDb).WaitFor(paymentDb)
    .WithReference(kafka).WaitFor(kafka)
    .WithKafkaWriteAccess(kafka, "payment.payments", "payment.dead-letter")
    .WithReference(identity)
    .WithReference(paymentGateway)
    .WithEnvironment("PaymentGateway__ApiKey", paymentGatewayApiKey)
    .WithEnvironment("Payment__ChargeDeadline", chargeDeadline)
    .WithHttpHealthCheck("/health");

// Replicas of the internal services, one each unless the AppHost is told otherwise (--Replicas:products=2): service
// discovery hands every caller all their addresses, the gateway spreads requests over them, and the event bus's
// consumer groups share the partitions. The gateway and the storefront stay single: their ports are the public ones.
foreach (var service in new[] { identity, products, ordering, payment })
{
    service.WithConfiguredReplicas();
}

// The single entry point for API clients: routes /api/{service}/… to the services found by service discovery.
var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithExternalHttpEndpoints()
    .WithReference(cache) // its response cache hears the services' cache invalidations
    .WithReference(identity)
    .WithReference(products)
    .WithReference(ordering)
    .WithReference(payment)
    .WithEnvironment("RateLimiting__PermitLimit", rateLimit)
    .WithEnvironment("RateLimiting__AnonymousPermitLimit", anonymousRateLimit)
    .WithEnvironment("RateLimiting__WindowSeconds", rateLimitWindow)
    .WithEnvironment("ResponseCache__Enabled", gatewayResponseCache)
    .WithEnvironment("ForwardedHeaders__KnownNetworks", trustedProxyNetworks)
    .WithHttpHealthCheck("/health");

var web = builder.AddProject<Projects.Shop_Web>("web")
    .WithExternalHttpEndpoints()
    .WithReference(gateway).WaitFor(gateway)
    .WithReference(cache).WaitFor(cache) // carts
    .WithEnvironment("Identity__InternalUrl", "http://gateway")
    .WithEnvironment("Identity__ClientId", "web")
    .WithEnvironment("Identity__ClientSecret", webClientSecret)
    .WithEnvironment("ForwardedHeaders__KnownNetworks", trustedProxyNetworks)
    .WithHttpHealthCheck("/health");

// Sign-in: browsers reach the identity service only through the gateway, so the gateway's URL is the token issuer
// everywhere; services fetch keys from http://identity. The storefront is the registered client, on its real URL.
var issuer = gateway.GetEndpoint("http");
identity
    .WithEnvironment("Identity__Url", issuer)
    .WithEnvironment("Identity__KeyEncryptionSecret", identityKeyEncryptionSecret)
    .WithEnvironment("Identity__Clients__web__ClientSecret", webClientSecret)
    .WithEnvironment("Identity__Clients__web__RedirectUris__0", ReferenceExpression.Create($"{web.GetEndpoint("http")}/signin-oidc"))
    .WithEnvironment("Identity__Clients__web__PostLogoutRedirectUris__0", ReferenceExpression.Create($"{web.GetEndpoint("http")}/signout-callback-oidc"))
    .WithEnvironment("Identity__Lockout__MaxFailedAccessAttempts", lockoutAttempts)
    .WithEnvironment("Identity__AccessTokenLifetime", accessTokenLifetime)
    .WithEnvironment("Identity__FirstAdmin__Email", firstAdminEmail)
    .WithEnvironment("Identity__FirstAdmin__Password", firstAdminPassword);
foreach (var api in new[] { products, ordering, payment, gateway })
{
    api.WithEnvironment("Identity__Url", issuer).WithEnvironment("Identity__InternalUrl", "http://identity");
}

web.WithEnvironment("Identity__Url", issuer);
gateway.WithEnvironment("Cors__AllowedOrigins__0", web.GetEndpoint("http"));

builder.Build().Run();
