using System.Globalization;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>
/// What a parameter's value must be, checked when the app is built: <c>--Parameters:x=abc</c> then fails at once with
/// the parameter's name ("Parameters:x is 'abc', which is not a whole number from 1 to 100."), not later in the service
/// that reads it, under that service's own setting.
/// </summary>
public static class ParameterValidation
{
    public static IResourceBuilder<ParameterResource> WithValidation(
        this IResourceBuilder<ParameterResource> builder, Func<string, bool> isValid, string expected)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(isValid);
        ArgumentException.ThrowIfNullOrWhiteSpace(expected);
        builder.Resource.Validation = (isValid, expected);
        return builder;
    }

    public static IResourceBuilder<ParameterResource> AsWholeNumber(this IResourceBuilder<ParameterResource> builder, long min, long max) =>
        builder.WithValidation(
            value => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max,
            string.Create(CultureInfo.InvariantCulture, $"a whole number from {min} to {max}"));

    public static IResourceBuilder<ParameterResource> AsNumber(this IResourceBuilder<ParameterResource> builder, double min, double max) =>
        builder.WithValidation(
            value => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max,
            string.Create(CultureInfo.InvariantCulture, $"a number from {min} to {max}"));

    public static IResourceBuilder<ParameterResource> AsBoolean(this IResourceBuilder<ParameterResource> builder) =>
        builder.WithValidation(value => bool.TryParse(value, out _), "true or false");

    /// <summary>A positive duration, as .NET reads one (<c>hh:mm:ss</c>, or <c>d.hh:mm:ss</c>).</summary>
    public static IResourceBuilder<ParameterResource> AsDuration(this IResourceBuilder<ParameterResource> builder) =>
        builder.WithValidation(
            value => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var duration) && duration > TimeSpan.Zero,
            "a positive duration (hh:mm:ss)");
}
