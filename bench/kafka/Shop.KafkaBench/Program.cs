using System.Globalization;
using Shop.KafkaBench;

// Throughput and latency of the broker measured with Confluent.Kafka; run by ../run.sh.
// Usage: Shop.KafkaBench --bootstrap HOST:PORT --broker-pid PID --scenario produce|consume|latency
//        [--size BYTES] [--partitions N] [--count N] [--seconds N] [--linger-ms N] [--topic NAME]
var options = BenchOptions.Parse(args);
using var rss = new RssSampler(options.BrokerPid);
var result = options.Scenario switch
{
    "produce" => await Scenarios.ProduceAsync(options),
    "consume" => Scenarios.Consume(options),
    "latency" => await Scenarios.LatencyAsync(options),
    _ => throw new ArgumentException($"unknown scenario '{options.Scenario}'"),
};

var peak = rss.Stop();
await Task.Delay(TimeSpan.FromSeconds(2));
var after = RssSampler.Read(options.BrokerPid);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT scenario={options.Scenario} size={options.Size} partitions={options.Partitions} {result} broker_rss_peak_mb={peak / 1048576.0:0.0} broker_rss_after_mb={after / 1048576.0:0.0}"));
