using Identity.Api.Services;
using Microsoft.AspNetCore.Identity;

namespace Identity.Tests;

public class RegistrationErrorTests
{
    private static readonly IdentityErrorDescriber Describe = new();

    [Fact]
    public void Password_rules_are_reported_on_password()
    {
        var errors = UserRegistration.ToValidationErrors([Describe.PasswordTooShort(8), Describe.PasswordRequiresDigit()]);

        var (field, messages) = Assert.Single(errors);
        Assert.Equal("password", field);
        Assert.Equal([Describe.PasswordTooShort(8).Description, Describe.PasswordRequiresDigit().Description], messages);
    }

    [Fact]
    public void A_taken_address_is_reported_once_on_email_although_it_is_also_the_user_name()
    {
        var errors = UserRegistration.ToValidationErrors([Describe.DuplicateUserName("ada@example.com"), Describe.DuplicateEmail("ada@example.com")]);

        var (field, messages) = Assert.Single(errors);
        Assert.Equal("email", field);
        Assert.Equal([Describe.DuplicateEmail("ada@example.com").Description], messages);
    }

    [Fact]
    public void A_user_name_error_alone_is_reported_on_email()
    {
        var errors = UserRegistration.ToValidationErrors([Describe.InvalidUserName("bad name")]);

        Assert.Equal(["email"], errors.Keys);
    }

    [Fact]
    public void Errors_of_several_fields_are_grouped_per_field()
    {
        var errors = UserRegistration.ToValidationErrors(
            [Describe.InvalidEmail("x"), Describe.PasswordRequiresUpper(), Describe.ConcurrencyFailure()]);

        Assert.Equal(["email", "password", "user"], errors.Keys.Order());
    }
}
