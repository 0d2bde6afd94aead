namespace Shop.KafkaBroker.Storage;

/// <summary>A topic: its partitions' logs and its configuration (swapped whole, never mutated).</summary>
public sealed class Topic(string name, string directory, TopicConfig config)
{
    private PartitionLog[] _partitions = [];
    private TopicConfig _config = config;

    public string Name { get; } = name;

    public string Directory { get; } = directory;

    public TopicConfig Config
    {
        get => Volatile.Read(ref _config);
        set => Volatile.Write(ref _config, value);
    }

    public PartitionLog[] Partitions
    {
        get => Volatile.Read(ref _partitions);
        set => Volatile.Write(ref _partitions, value);
    }

    public PartitionLog? Partition(int index)
    {
        var partitions = Partitions;
        return index >= 0 && index < partitions.Length ? partitions[index] : null;
    }
}
