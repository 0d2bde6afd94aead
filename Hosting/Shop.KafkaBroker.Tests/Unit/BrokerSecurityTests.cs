using System.Text;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Security;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class BrokerSecurityTests
{
    private static readonly BrokerSecurity Security = new(new BrokerOptions
    {
        Users =
        [
            new BrokerUser("ordering", "pw-ordering", [TopicPattern.Parse("ordering.orders"), TopicPattern.Parse("crash.*")], SuperUser: false),
            new BrokerUser("admin", "pw-admin", [], SuperUser: true),
        ],
    });

    [Theory]
    [InlineData("ordering", "ordering.orders", true)]
    [InlineData("ordering", "ordering.orders2", false)]
    [InlineData("ordering", "payment.payments", false)]
    [InlineData("ordering", "crash.ledger.orders", true)]
    [InlineData("ordering", "crash", false)]
    [InlineData("Ordering", "ordering.orders", false)]
    [InlineData("admin", "payment.payments", true)]
    [InlineData(null, "ordering.orders", false)]
    public void A_user_writes_its_literal_and_prefixed_topics_a_super_user_everything_and_anyone_else_nothing(string? principal, string topic, bool allowed) =>
        Assert.Equal(allowed, Security.CanWrite(principal, topic));

    [Fact]
    public void Without_users_authentication_is_off_and_everything_may_be_written()
    {
        var open = new BrokerSecurity(new BrokerOptions());
        Assert.False(open.Enabled);
        Assert.True(open.CanWrite(null, "payment.payments"));
    }

    [Theory]
    [InlineData("ordering", "pw-ordering", true)]
    [InlineData("ordering", "pw-orderinG", false)]
    [InlineData("ordering", "pw-ordering ", false)]
    [InlineData("ordering", "pw-admin", false)]
    [InlineData("nobody", "pw-ordering", false)]
    public void Passwords_must_match_exactly_and_belong_to_the_user(string user, string password, bool authenticated) =>
        Assert.Equal(authenticated, Security.Authenticate(user, Encoding.UTF8.GetBytes(password)));

    [Fact]
    public void A_user_printed_in_a_log_never_shows_its_password() =>
        Assert.Equal("ordering (write: ordering.orders, crash.*)",
            new BrokerUser("ordering", "pw-ordering", [TopicPattern.Parse("ordering.orders"), TopicPattern.Parse("crash.*")], SuperUser: false).ToString());
}
