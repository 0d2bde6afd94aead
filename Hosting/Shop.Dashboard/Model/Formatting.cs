using System.Globalization;

namespace Shop.Dashboard.Model;

public static class Formatting
{
    public static string Duration(TimeSpan duration) => duration.TotalMilliseconds switch
    {
        < 1 => $"{(duration.TotalMicroseconds).ToString("0", CultureInfo.InvariantCulture)} µs",
        < 1000 => $"{duration.TotalMilliseconds.ToString("0.##", CultureInfo.InvariantCulture)} ms",
        _ => $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s",
    };

    public static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public static string DateTime(DateTimeOffset? time) =>
        time is null ? "—" : time.Value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string ShortId(string id) => id.Length > 7 ? id[..7] : id;
}
