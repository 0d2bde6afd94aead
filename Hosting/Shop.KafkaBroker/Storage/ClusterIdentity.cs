using System.Buffers.Binary;
using System.Text.Json;
using Shop.KafkaBroker.Configuration;

namespace Shop.KafkaBroker.Storage;

/// <summary>
/// What identifies this broker across restarts: the cluster id and the producer id counter. Producer ids
/// are reserved in blocks persisted before use, so ids never repeat after a crash.
/// </summary>
public sealed class ClusterIdentity
{
    private const long ProducerIdBlock = 1000;

    private readonly Lock _lock = new();
    private readonly string _dataDirectory;
    private readonly string _producerIdsPath;
    private long _nextProducerId;
    private long _reservedUntil;

    private sealed record ClusterFile(string ClusterId);

    public ClusterIdentity(BrokerOptions options)
    {
        _dataDirectory = options.DataDir;
        Directory.CreateDirectory(options.DataDir);
        var clusterPath = Path.Combine(options.DataDir, "cluster.json");
        if (File.Exists(clusterPath))
        {
            ClusterId = JsonSerializer.Deserialize<ClusterFile>(File.ReadAllText(clusterPath))!.ClusterId;
        }
        else
        {
            ClusterId = Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            File.WriteAllText(clusterPath, JsonSerializer.Serialize(new ClusterFile(ClusterId)));
        }

        _producerIdsPath = Path.Combine(options.DataDir, "producer-ids");
        _nextProducerId = File.Exists(_producerIdsPath) && File.ReadAllBytes(_producerIdsPath) is { Length: 8 } stored
            ? BinaryPrimitives.ReadInt64BigEndian(stored)
            : 1000;
        _reservedUntil = _nextProducerId;
    }

    public string ClusterId { get; }

    public long NextProducerId()
    {
        lock (_lock)
        {
            if (_nextProducerId >= _reservedUntil)
            {
                _reservedUntil = _nextProducerId + ProducerIdBlock;
                var bytes = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(bytes, _reservedUntil);
                var temporary = _producerIdsPath + ".tmp";
                using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
                {
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, _producerIdsPath, overwrite: true);

                // A rename a power loss undoes would hand out this block's ids again.
                DirectorySync.Flush(_dataDirectory);
            }

            return _nextProducerId++;
        }
    }
}
