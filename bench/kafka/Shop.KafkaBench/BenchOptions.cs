using System.Globalization;

namespace Shop.KafkaBench;

public sealed record BenchOptions(string Bootstrap, int BrokerPid, string Scenario, int Size, int Partitions, int Count, int Seconds, double LingerMs, int FetchQueueBackoffMs, string Topic)
{
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var size = Int("size", 100);
        var partitions = Int("partitions", 1);
        return new BenchOptions(
            Get("bootstrap", "127.0.0.1:9092"),
            Int("broker-pid", 0),
            Get("scenario", "produce"),
            size,
            partitions,
            Int("count", 1_000_000),
            Int("seconds", 10),
            double.Parse(Get("linger-ms", "5"), CultureInfo.InvariantCulture),
            Int("fetch-queue-backoff-ms", 10),
            Get("topic", $"bench-{size}b-{partitions}p"));
    }
}
