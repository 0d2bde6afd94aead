using Identity.Api.Apis;
using Identity.Api.Model;

namespace Identity.Tests;

public class ProfileValidationTests
{
    private static readonly ShippingAddress Complete = new("1 Main Street", "Dublin", "D01 F5P2", "Ireland");

    [Fact]
    public void A_name_and_a_complete_address_are_accepted()
    {
        Assert.Empty(UsersApi.Validate(new UpdateProfileRequest("Ada", Complete)));
    }

    [Fact]
    public void No_address_at_all_is_accepted_and_clears_it()
    {
        Assert.Empty(UsersApi.Validate(new UpdateProfileRequest("Ada", null)));
    }

    [Fact]
    public void A_missing_name_and_each_missing_address_field_are_reported_by_field()
    {
        var errors = UsersApi.Validate(new UpdateProfileRequest(" ", Complete with { City = "", Country = null }));

        Assert.Equal(["name", "shippingAddress.city", "shippingAddress.country"], errors.Keys.Order());
    }

    [Fact]
    public void A_name_or_address_field_of_zero_width_characters_counts_as_missing()
    {
        var errors = UsersApi.Validate(new UpdateProfileRequest("\u200b\u200b", Complete with { Street = "\ufeff" }));

        Assert.Equal(["name", "shippingAddress.street"], errors.Keys.Order());
    }

    [Fact]
    public void Over_long_values_are_reported_with_the_limit()
    {
        var errors = UsersApi.Validate(new UpdateProfileRequest(new string('n', ApplicationUser.MaxNameLength + 1),
            Complete with { Street = new string('s', ApplicationUser.MaxAddressFieldLength + 1) }));

        Assert.Equal([$"The name can have at most {ApplicationUser.MaxNameLength} characters."], errors["name"]);
        Assert.Equal([$"The street can have at most {ApplicationUser.MaxAddressFieldLength} characters."], errors["shippingAddress.street"]);
    }
}
