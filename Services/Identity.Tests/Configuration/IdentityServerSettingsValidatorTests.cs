using Identity.Api.Configuration;

namespace Identity.Tests.Configuration;

public sealed class IdentityServerSettingsValidatorTests
{
    private readonly IdentityServerSettingsValidator _validator = new();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_key_encryption_secret_fails_start_up_saying_where_it_comes_from(string? secret)
    {
        var result = _validator.Validate(null, new IdentityServerSettings { KeyEncryptionSecret = secret });

        Assert.True(result.Failed);
        Assert.Contains("Identity:KeyEncryptionSecret is not set", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("identity-key-encryption-secret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_key_encryption_secret_fails_start_up_without_showing_it()
    {
        var result = _validator.Validate(null, new IdentityServerSettings { KeyEncryptionSecret = "short-Secret-123" });

        Assert.True(result.Failed);
        Assert.Contains("has 16 characters; it needs at least 24", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("short-Secret-123", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_as_long_as_the_generated_one_is_accepted()
    {
        var result = _validator.Validate(null, new IdentityServerSettings { KeyEncryptionSecret = new string('k', 24) });

        Assert.True(result.Succeeded);
    }
}
