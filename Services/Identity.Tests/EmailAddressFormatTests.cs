using Identity.Api.Model;
using Identity.Api.Services;

namespace Identity.Tests;

public class EmailAddressFormatTests
{
    [Theory]
    [InlineData("ada@example.com")]
    [InlineData("o'neil@example.com")]
    [InlineData("ada.lovelace+shop@mail.example.co.uk")]
    [InlineData("shopper-0123456789abcdef0123456789abcdef@example.com")]
    [InlineData("customer@example.com")]
    [InlineData("jürgen@müller.example")]
    [InlineData("用户@例子.中国")]
    [InlineData("a_b-c@x-y.example")]
    public void Plain_mailboxes_in_any_script_are_accepted(string address)
    {
        Assert.True(EmailAddressFormat.IsWellFormed(address));
    }

    [Theory]
    [InlineData("a b@c.com")]
    [InlineData("ada@exa mple.com")]
    [InlineData("ada\t@example.com")]
    [InlineData("ada\u200b@example.com")]
    [InlineData("<script>@x.com")]
    [InlineData("\"quoted\"@c.com")]
    [InlineData("a,b@c.com")]
    [InlineData("a;b@c.com")]
    [InlineData("a:b@c.com")]
    [InlineData("a(b)@c.com")]
    [InlineData("a[b]@c.com")]
    [InlineData("a\\b@c.com")]
    [InlineData("Ada <ada@example.com>")]
    [InlineData("ada@b@example.com")]
    [InlineData("ada.example.com")]
    [InlineData("@example.com")]
    [InlineData("ada@")]
    [InlineData("a@b")]
    [InlineData("bob.probe2@example.com.")]
    [InlineData("ada@.example.com")]
    [InlineData("ada@example..com")]
    [InlineData(".ada@example.com")]
    [InlineData("ada.@example.com")]
    [InlineData("ada..lovelace@example.com")]
    [InlineData("ada@-example.com")]
    [InlineData("ada@example-.com")]
    [InlineData("ada@exa_mple.com")]
    [InlineData("ada@[192.0.2.1]")]
    public void Malformed_addresses_are_refused(string address)
    {
        Assert.False(EmailAddressFormat.IsWellFormed(address));
    }

    [Fact]
    public void A_domain_label_over_63_characters_is_refused()
    {
        Assert.False(EmailAddressFormat.IsWellFormed($"ada@{new string('a', 64)}.example"));
        Assert.True(EmailAddressFormat.IsWellFormed($"ada@{new string('a', 63)}.example"));
    }

    [Theory]
    [InlineData("a b@c.com")]
    [InlineData("<script>@x.com")]
    [InlineData("\"quoted\"@c.com")]
    [InlineData("a@b")]
    [InlineData("bob.probe2@example.com.")]
    public void Registration_reports_a_malformed_address_on_email(string address)
    {
        var errors = UserRegistration.ValidateFields(new RegisterUserRequest(address, "Pw#12345678a", "Bob"));

        Assert.Equal(["email"], errors.Keys);
        Assert.Equal(["The e-mail address is not valid: it should look like ada@example.com."], errors["email"]);
    }

    [Fact]
    public void Registration_accepts_a_well_formed_address_with_surrounding_spaces()
    {
        Assert.Empty(UserRegistration.ValidateFields(new RegisterUserRequest(" ada@example.com ", "Pw#12345678a", "Ada")));
    }
}
