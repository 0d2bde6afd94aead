using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_prints_usage_and_exits_zero()
    {
        var (exitCode, stdout, _) = await BrokerProcess.RunToExitAsync("--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("Usage: Shop.KafkaBroker", stdout);
        Assert.Contains("--flush always|interval", stdout);
        Assert.Contains("KafkaBroker__Port", stdout);
    }

    [Theory]
    [InlineData("error: invalid value 'lots' for port: expected an integer from 0 to 65535", "--port", "lots")]
    [InlineData("error: unknown option '--colour' (see --help)", "--colour", "blue")]
    [InlineData("error: invalid value 'sometimes' for flush: expected always or interval", "--flush", "sometimes")]
    [InlineData("error: option '--data-dir' needs a value (DIR)", "--data-dir")]
    [InlineData("error: invalid value '268435457' for max-message-bytes: expected an integer from 128 to 268435456", "--max-message-bytes", "268435457")]
    public async Task Bad_arguments_give_one_line_and_exit_code_two(string expected, params string[] args)
    {
        var (exitCode, stdout, stderr) = await BrokerProcess.RunToExitAsync(args);
        Assert.Equal(2, exitCode);
        Assert.Equal(expected, stderr.Trim());
        Assert.DoesNotContain("Exception", stderr + stdout);
    }

    [Fact]
    public async Task Settings_come_from_environment_too_and_the_command_line_wins()
    {
        var environment = new Dictionary<string, string>
        {
            ["KafkaBroker__AutoCreateTopics"] = "false",
            ["KafkaBroker__DefaultPartitions"] = "5",
            ["KafkaBroker__Flush"] = "interval",
        };
        await using var broker = await BrokerProcess.StartAsync(environment, "--flush", "always");
        var log = new ClientLog();
        using var admin = log.BuildAdmin(broker.BootstrapServers);
        var configs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "1" }])).Single().Entries;
        Assert.Equal("false", configs["auto.create.topics.enable"].Value);
        Assert.Equal("5", configs["num.partitions"].Value);
        Assert.Equal("always", configs["log.flush.policy"].Value);

        var (exitCode, _, stderr) = await BrokerProcess.RunToExitAsync(
            new Dictionary<string, string> { ["KafkaBroker__Flush"] = "bogus" }, "--port", "0", "--data-dir", broker.DataDir);
        Assert.Equal(2, exitCode);
        Assert.Equal("error: invalid value 'bogus' for flush: expected always or interval", stderr.Trim());
    }

    [Fact]
    public async Task A_SASL_user_without_a_password_is_refused_with_the_key_to_set_and_help_tells_where_users_come_from()
    {
        var (exitCode, stdout, stderr) = await BrokerProcess.RunToExitAsync(
            new Dictionary<string, string> { ["KafkaBroker__Sasl__Users__ordering__Write"] = "ordering.orders" }, "--port", "0");
        Assert.Equal(2, exitCode);
        Assert.Equal("error: SASL user 'ordering' has no password: set KafkaBroker:Sasl:Users:ordering:Password", stderr.Trim());
        Assert.DoesNotContain("Exception", stderr + stdout);

        var (helpExitCode, usage, _) = await BrokerProcess.RunToExitAsync("--help");
        Assert.Equal(0, helpExitCode);
        Assert.Contains("KafkaBroker__Sasl__Users__NAME__Password", usage);
    }
}
