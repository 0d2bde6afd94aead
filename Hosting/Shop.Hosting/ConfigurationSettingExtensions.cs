using Microsoft.Extensions.Configuration;

namespace Shop.Hosting;

/// <summary>Reads AppHost settings so that a value of the wrong kind ends in a one-line error naming the setting.</summary>
public static class ConfigurationSettingExtensions
{
    /// <summary>The value of <paramref name="key"/>, or <paramref name="defaultValue"/> when it is not set.</summary>
    /// <exception cref="DistributedApplicationException">The value is not a <typeparamref name="T"/>.</exception>
    public static T GetSetting<T>(this IConfiguration configuration, string key, T defaultValue)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        try
        {
            return configuration.GetValue(key, defaultValue)!;
        }
        catch (InvalidOperationException)
        {
            throw new DistributedApplicationException($"{key} is '{configuration[key]}', which is not {Describe(typeof(T))}.");
        }
    }

    private static string Describe(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(double) => "a number",
        var t => $"a {t.Name}",
    };
}
