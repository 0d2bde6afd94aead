using Shop.ServiceDefaults;

namespace Gateway.Tests;

public class ServiceDefaultsVisibleTextTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t\n")]
    [InlineData("\u200b")]
    [InlineData("\u200b \u2060\ufeff")]
    [InlineData("\u00ad")]
    [InlineData("\u3164\u115f")]
    [InlineData("\u0007")]
    public void Text_that_shows_nothing_is_blank(string? value) => Assert.True(VisibleText.IsBlank(value));

    [Theory]
    [InlineData("Ada")]
    [InlineData("\u200bAda")]
    [InlineData(" é ")]
    [InlineData("李")]
    [InlineData("😀")]
    [InlineData("-")]
    public void Text_with_anything_visible_is_not_blank(string value) => Assert.False(VisibleText.IsBlank(value));
}
