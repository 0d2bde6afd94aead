using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

/// <summary>
/// A broker with SASL/PLAIN users and write ACLs, as the AppHost starts it: an admin (super user) and two services
/// that each may write only their own topics.
/// </summary>
public sealed class SaslBrokerFixture : IAsyncLifetime
{
    public const string AdminPassword = "admin-Secret-1";
    public const string OrderingPassword = "ordering-Secret-2";
    public const string PaymentPassword = "payment-Secret-3";

    public BrokerProcess Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await BrokerProcess.StartAsync(new Dictionary<string, string>
    {
        ["KafkaBroker__Sasl__Users__admin__Password"] = AdminPassword,
        ["KafkaBroker__Sasl__Users__admin__SuperUser"] = "true",
        ["KafkaBroker__Sasl__Users__ordering__Password"] = OrderingPassword,
        ["KafkaBroker__Sasl__Users__ordering__Write"] = "ordering.orders,ordering.dead-letter",
        ["KafkaBroker__Sasl__Users__payment__Password"] = PaymentPassword,
        ["KafkaBroker__Sasl__Users__payment__Write__0"] = "payment.payments",
        ["KafkaBroker__Sasl__Users__payment__Write__1"] = "payment.dead-*",
    });

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SaslBrokerCollection : ICollectionFixture<SaslBrokerFixture>
{
    public const string Name = "SASL broker";
}

[Collection(SaslBrokerCollection.Name)]
public sealed class SaslTests(SaslBrokerFixture fixture)
{
    private const short SaslHandshake = 17;
    private const short SaslAuthenticate = 36;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private int Port => fixture.Broker.Port;

    private string Bootstrap => fixture.Broker.BootstrapServers;

    [Fact]
    public async Task ApiVersions_is_answered_before_authentication_and_advertises_SASL_but_anything_else_closes_the_connection()
    {
        using var connection = await RawConnection.OpenAsync(Port);
        await connection.SendAsync(RawConnection.Request(18, 0, 1, []));
        var versions = await connection.ReadFrameAsync(Timeout);
        Assert.NotNull(versions);
        var apis = ReadApiVersionsV0(versions);
        Assert.Equal((0, 1), apis[SaslHandshake]);
        Assert.Equal((0, 2), apis[SaslAuthenticate]);

        // Metadata v1 for no topics, unauthenticated: the broker closes the connection without an answer.
        await connection.SendAsync(RawConnection.Request(3, 1, 2, [0, 0, 0, 0]));
        Assert.Null(await connection.ReadFrameAsync(Timeout));

        // The console logger writes on its own thread, so the line may reach the output after the connection closed.
        await Wait.UntilAsync(() => fixture.Broker.Output.Contains("Metadata request before SASL authentication", StringComparison.Ordinal),
            Timeout, "the broker to log why it closed the connection");
    }

    [Fact]
    public async Task An_unknown_mechanism_gets_UNSUPPORTED_SASL_MECHANISM_with_the_enabled_ones_and_the_connection_closes()
    {
        using var connection = await RawConnection.OpenAsync(Port);
        await connection.SendAsync(RawConnection.Request(SaslHandshake, 1, 3, KafkaString("SCRAM-SHA-512")));
        var response = await connection.ReadFrameAsync(Timeout);

        Assert.NotNull(response);
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(response));
        Assert.Equal(33, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(6)));
        Assert.Equal("PLAIN", ReadString(response, 10));
        Assert.Null(await connection.ReadFrameAsync(Timeout));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_wrong_password_gets_SASL_AUTHENTICATION_FAILED_with_a_message_that_does_not_echo_it_and_the_connection_closes(short version)
    {
        const string wrongPassword = "not-the-Password-42";
        using var connection = await HandshakeAsync(version: 1);
        await connection.SendAsync(AuthenticateRequest(version, 11, PlainToken("ordering", wrongPassword)));
        var response = await connection.ReadFrameAsync(Timeout);

        Assert.NotNull(response);
        var (error, message) = ReadAuthenticateResponse(response, version);
        Assert.Equal(58, error);
        Assert.Contains("Invalid username or password", message);
        Assert.DoesNotContain(wrongPassword, message);
        Assert.DoesNotContain(wrongPassword, fixture.Broker.Output);
        Assert.Null(await connection.ReadFrameAsync(Timeout));
    }

    [Fact]
    public async Task The_right_password_authenticates_the_connection_for_other_requests()
    {
        using var connection = await HandshakeAsync(version: 1);
        await connection.SendAsync(AuthenticateRequest(2, 12, PlainToken("ordering", SaslBrokerFixture.OrderingPassword)));
        var response = await connection.ReadFrameAsync(Timeout);
        Assert.NotNull(response);
        Assert.Equal((0, null), ReadAuthenticateResponse(response, 2));

        await connection.SendAsync(RawConnection.Request(3, 1, 13, [0, 0, 0, 0]));
        var metadata = await connection.ReadFrameAsync(Timeout);
        Assert.NotNull(metadata);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(metadata));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(metadata.AsSpan(4)));
    }

    [Fact]
    public async Task After_a_version_0_handshake_the_token_travels_as_a_bare_frame()
    {
        using (var connection = await HandshakeAsync(version: 0))
        {
            await connection.SendAsync(BareFrame(PlainToken("payment", SaslBrokerFixture.PaymentPassword)));
            var success = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(success);
            Assert.Empty(success);

            await connection.SendAsync(RawConnection.Request(3, 1, 14, [0, 0, 0, 0]));
            var metadata = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(metadata);
            Assert.Equal(14, BinaryPrimitives.ReadInt32BigEndian(metadata));
        }

        using (var refused = await HandshakeAsync(version: 0))
        {
            await refused.SendAsync(BareFrame(PlainToken("payment", "wrong")));
            Assert.Null(await refused.ReadFrameAsync(Timeout));
        }
    }

    [Fact]
    public async Task Confluent_Kafka_clients_with_the_right_credentials_produce_and_consume()
    {
        var topic = "ordering.orders";
        var log = new ClientLog();
        using (var producer = log.BuildProducer<string, string>(Client(log.Producer(Bootstrap), "ordering", SaslBrokerFixture.OrderingPassword)))
        {
            var delivered = await producer.ProduceAsync(topic, new Message<string, string> { Key = "o-1", Value = "submitted" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }

        using var consumer = log.BuildConsumer<string, string>(Client(log.Consumer(Bootstrap, "sasl-readers"), "payment", SaslBrokerFixture.PaymentPassword));
        consumer.Subscribe(topic);
        ConsumeResult<string, string>? received = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received?.Message.Key != "o-1" && DateTime.UtcNow < deadline)
        {
            received = consumer.Consume(TimeSpan.FromSeconds(1)) ?? received;
        }

        Assert.NotNull(received);
        Assert.Equal(("o-1", "submitted"), (received.Message.Key, received.Message.Value));
        consumer.Commit(received);
        consumer.Close();
        Assert.Empty(log.Problems);
    }

    [Fact]
    public async Task A_wrong_password_fails_a_Confluent_Kafka_producer_with_an_authentication_error()
    {
        var errors = new List<Error>();
        var config = Client(new ProducerConfig { BootstrapServers = Bootstrap, MessageTimeoutMs = 5000 }, "ordering", "wrong-password");
        using var producer = new ProducerBuilder<Null, string>(config).SetErrorHandler((_, e) => { lock (errors) { errors.Add(e); } }).Build();

        var failure = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("ordering.orders", new Message<Null, string> { Value = "x" }));
        Assert.True(failure.Error.IsError);
        lock (errors)
        {
            Assert.Contains(errors, e => e.Code == ErrorCode.Local_Authentication && e.Reason.Contains("Invalid username or password", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Producing_to_another_services_topic_is_refused_with_TOPIC_AUTHORIZATION_FAILED_and_writes_nothing()
    {
        const string topic = "ordering.orders";
        var log = new ClientLog();
        using var admin = new AdminClientBuilder(Client(new AdminClientConfig { BootstrapServers = Bootstrap }, "admin", SaslBrokerFixture.AdminPassword)).Build();
        using (var ordering = log.BuildProducer<string, string>(Client(log.Producer(Bootstrap), "ordering", SaslBrokerFixture.OrderingPassword)))
        {
            await ordering.ProduceAsync(topic, new Message<string, string> { Key = "o-2", Value = "ordering's own" });
        }

        var before = HighWatermarks(topic);
        using (var payment = log.BuildProducer<string, string>(Client(log.Producer(Bootstrap), "payment", SaslBrokerFixture.PaymentPassword)))
        {
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                payment.ProduceAsync(topic, new Message<string, string> { Key = "o-2", Value = "forged PaymentSucceeded" }));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);

            // Its own topics (a literal and a prefix) still work on the same connection.
            Assert.Equal(PersistenceStatus.Persisted, (await payment.ProduceAsync("payment.payments", new Message<string, string> { Key = "o-2", Value = "paid" })).Status);
            Assert.Equal(PersistenceStatus.Persisted, (await payment.ProduceAsync("payment.dead-letter", new Message<string, string> { Key = "o-2", Value = "dead" })).Status);
        }

        Assert.Equal(before, HighWatermarks(topic));

        // The admin is a super user: it may write anywhere.
        using (var super = new ProducerBuilder<string, string>(Client(new ProducerConfig { BootstrapServers = Bootstrap }, "admin", SaslBrokerFixture.AdminPassword)).Build())
        {
            Assert.Equal(PersistenceStatus.Persisted, (await super.ProduceAsync(topic, new Message<string, string> { Key = "o-3", Value = "admin" })).Status);
        }

        Assert.Equal(before.Sum() + 1, HighWatermarks(topic).Sum());
    }

    [Fact]
    public async Task Kcat_works_with_SASL_settings_and_is_refused_without_them()
    {
        string[] sasl = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=ordering", "-X", $"sasl.password={SaslBrokerFixture.OrderingPassword}"];
        var (produced, _, produceLog) = await Kcat.RunAsync(Bootstrap, "k1:kcat-value\n", [.. sasl, "-P", "-t", "ordering.dead-letter", "-K:"]);
        Assert.True(produced == 0, produceLog);

        var (consumed, text, consumeLog) = await Kcat.RunAsync(Bootstrap, null, [.. sasl, "-C", "-t", "ordering.dead-letter", "-o", "beginning", "-e", "-f", "%k=%s\n"]);
        Assert.True(consumed == 0, consumeLog);
        Assert.Contains("k1=kcat-value", text);
        Assert.DoesNotContain("Protocol parse failure", consumeLog);

        var (refusedCode, _, refusedLog) = await Kcat.RunAsync(Bootstrap, null, ["-X", "socket.timeout.ms=3000", "-m", "5", "-L"]);
        Assert.NotEqual(0, refusedCode);
        Assert.Contains("Failed to acquire metadata", refusedLog);
    }

    private long[] HighWatermarks(string topic)
    {
        using var reader = new ConsumerBuilder<Ignore, Ignore>(Client(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "watermarks" }, "admin", SaslBrokerFixture.AdminPassword)).Build();
        return [.. Enumerable.Range(0, 1).Select(p => reader.QueryWatermarkOffsets(new TopicPartition(topic, p), Timeout).High.Value)];
    }

    private static T Client<T>(T config, string user, string password) where T : ClientConfig
    {
        config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        config.SaslMechanism = SaslMechanism.Plain;
        config.SaslUsername = user;
        config.SaslPassword = password;
        return config;
    }

    private async Task<RawConnection> HandshakeAsync(short version)
    {
        var connection = await RawConnection.OpenAsync(Port);
        await connection.SendAsync(RawConnection.Request(SaslHandshake, version, 10, KafkaString("PLAIN")));
        var response = await connection.ReadFrameAsync(Timeout);
        Assert.NotNull(response);
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4)));
        Assert.Equal("PLAIN", ReadString(response, 10));
        return connection;
    }

    private static byte[] PlainToken(string user, string password) => Encoding.UTF8.GetBytes($"\0{user}\0{password}");

    private static byte[] KafkaString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var result = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteInt16BigEndian(result, (short)bytes.Length);
        bytes.CopyTo(result, 2);
        return result;
    }

    private static string ReadString(byte[] frame, int offset) =>
        Encoding.UTF8.GetString(frame, offset + 2, BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(offset)));

    private static byte[] BareFrame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>SaslAuthenticate: int32 bytes up to v1; v2 is flexible (header v2 with tagged fields, compact bytes).</summary>
    private static byte[] AuthenticateRequest(short version, int correlationId, byte[] token)
    {
        if (version < 2)
        {
            var body = new byte[4 + token.Length];
            BinaryPrimitives.WriteInt32BigEndian(body, token.Length);
            token.CopyTo(body, 4);
            return RawConnection.Request(SaslAuthenticate, version, correlationId, body);
        }

        // Header tagged fields (none), compact bytes (length + 1 as a varint; tokens here are short), body tagged fields.
        return RawConnection.Request(SaslAuthenticate, version, correlationId, [0, (byte)(token.Length + 1), .. token, 0]);
    }

    private static (short Error, string? Message) ReadAuthenticateResponse(byte[] frame, short version)
    {
        var position = version >= 2 ? 5 : 4;
        var error = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(position));
        position += 2;
        if (version >= 2)
        {
            var length = frame[position] - 1;
            return (error, length < 0 ? null : Encoding.UTF8.GetString(frame, position + 1, length));
        }

        var size = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(position));
        return (error, size < 0 ? null : Encoding.UTF8.GetString(frame, position + 2, size));
    }

    private static Dictionary<short, (int, int)> ReadApiVersionsV0(byte[] frame)
    {
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(4)));
        var count = BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(6));
        var apis = new Dictionary<short, (int, int)>();
        for (var i = 0; i < count; i++)
        {
            var entry = frame.AsSpan(10 + (i * 6));
            apis[BinaryPrimitives.ReadInt16BigEndian(entry)] = (BinaryPrimitives.ReadInt16BigEndian(entry[2..]), BinaryPrimitives.ReadInt16BigEndian(entry[4..]));
        }

        return apis;
    }
}
