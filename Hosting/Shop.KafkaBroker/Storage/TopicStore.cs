using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;

namespace Shop.KafkaBroker.Storage;

/// <summary>
/// All topics on disk: <c>{data}/topics/{topic}/topic.json</c> (partition count and config overrides) and one
/// directory per partition. Creation, deletion and partition changes are serialized; lookups are lock-free.
/// </summary>
public sealed partial class TopicStore(BrokerOptions options, FlushScheduler flusher, TimeProvider time, ILogger<TopicStore> logger) : IDisposable
{
    public const int MaxTopicNameLength = 249;
    private const string TopicFileName = "topic.json";

    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly Lock _adminLock = new();
    private int _disposed;
    private readonly string _topicsDirectory = Path.Combine(options.DataDir, "topics");
    private readonly string _deletedDirectory = Path.Combine(options.DataDir, "deleted");

    private sealed record TopicFile(int Partitions, Dictionary<string, string> Configs);

    /// <summary>fsync of a segment, for every partition log; unit tests replace it to inject an I/O error.</summary>
    internal Action<Segment> Fsync { get; init; } = static segment => segment.Flush();

    /// <summary>fsync of a directory, for the topics and every partition log; unit tests replace it to watch it.</summary>
    internal Action<string> FsyncDirectory { get; init; } = DirectorySync.Flush;

    public IEnumerable<Topic> Topics => _topics.Values;

    public Topic? Find(string name) => _topics.GetValueOrDefault(name);

    public void Load()
    {
        Directory.CreateDirectory(_topicsDirectory);
        if (Directory.Exists(_deletedDirectory))
        {
            Directory.Delete(_deletedDirectory, recursive: true);
        }

        foreach (var directory in Directory.EnumerateDirectories(_topicsDirectory))
        {
            var file = Path.Combine(directory, TopicFileName);
            if (!File.Exists(file))
            {
                continue;
            }

            var stored = JsonSerializer.Deserialize<TopicFile>(File.ReadAllText(file))!;
            var name = Path.GetFileName(directory);
            var topic = new Topic(name, directory, TopicConfig.Resolve(stored.Configs, options));
            topic.Partitions = [.. Enumerable.Range(0, stored.Partitions).Select(p => OpenPartition(topic, p))];
            _topics[name] = topic;
            LogTopicLoaded(logger, name, stored.Partitions, topic.Partitions.Sum(p => p.LogEndOffset - p.LogStartOffset));
        }
    }

    public static short ValidateName(string name)
    {
        if (name.Length == 0 || name.Length > MaxTopicNameLength || name is "." or "..")
        {
            return ErrorCode.InvalidTopic;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return ErrorCode.InvalidTopic;
            }
        }

        return ErrorCode.None;
    }

    /// <summary>Creates a topic; returns an error code and message (null on success).</summary>
    public (short Error, string? Message) Create(string name, int partitions, IReadOnlyDictionary<string, string> configs, bool validateOnly = false)
    {
        if (ValidateName(name) != ErrorCode.None)
        {
            return (ErrorCode.InvalidTopic, $"Topic name '{name}' is illegal: use up to 249 of [a-zA-Z0-9._-].");
        }

        if (partitions < 1)
        {
            return (ErrorCode.InvalidPartitions, "Number of partitions must be at least 1.");
        }

        if (partitions > options.MaxPartitionsPerTopic)
        {
            return (ErrorCode.InvalidPartitions, TooManyPartitions(partitions));
        }

        foreach (var (key, value) in configs)
        {
            if (TopicConfig.Validate(key, value) is { } problem)
            {
                return (ErrorCode.InvalidConfig, problem);
            }
        }

        lock (_adminLock)
        {
            if (_topics.ContainsKey(name))
            {
                return (ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists.");
            }

            if (validateOnly)
            {
                return (ErrorCode.None, null);
            }

            var directory = Path.Combine(_topicsDirectory, name);
            var overrides = new Dictionary<string, string>(configs);
            var topic = new Topic(name, directory, TopicConfig.Resolve(overrides, options));
            var opened = new List<PartitionLog>(partitions);
            try
            {
                Directory.CreateDirectory(directory);
                for (var p = 0; p < partitions; p++)
                {
                    opened.Add(OpenPartition(topic, p));
                }

                topic.Partitions = [.. opened];
                WriteTopicFile(topic, partitions, overrides);

                // Before the topic is answered as created: its partition directories and topic.json, then the topic's own.
                FsyncDirectory(directory);
                FsyncDirectory(_topicsDirectory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing half-created stays: no open files, and no directory for the next start to find.
                CloseAll(opened);
                TryDeleteDirectory(directory);
                LogCreateFailed(logger, e, name, partitions);
                return (ErrorCode.KafkaStorageError, $"Topic '{name}' could not be created: {e.Message}");
            }

            _topics[name] = topic;
            LogTopicCreated(logger, name, partitions);
            return (ErrorCode.None, null);
        }
    }

    public (short Error, string? Message) AddPartitions(string name, int count, bool validateOnly)
    {
        lock (_adminLock)
        {
            if (!_topics.TryGetValue(name, out var topic))
            {
                return (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
            }

            var current = topic.Partitions.Length;
            if (count <= current)
            {
                return (ErrorCode.InvalidPartitions, $"Topic currently has {current} partitions, {count} would not be an increase.");
            }

            if (count > options.MaxPartitionsPerTopic)
            {
                return (ErrorCode.InvalidPartitions, TooManyPartitions(count));
            }

            if (validateOnly)
            {
                return (ErrorCode.None, null);
            }

            var added = new List<PartitionLog>(count - current);
            try
            {
                for (var p = current; p < count; p++)
                {
                    added.Add(OpenPartition(topic, p));
                }

                WriteTopicFile(topic, count, new Dictionary<string, string>(topic.Config.Overrides));
                FsyncDirectory(topic.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CloseAll(added);
                for (var p = current; p < count; p++)
                {
                    TryDeleteDirectory(PartitionDirectory(topic, p));
                }

                LogCreateFailed(logger, e, name, count);
                return (ErrorCode.KafkaStorageError, $"Partitions of topic '{name}' could not be added: {e.Message}");
            }

            topic.Partitions = [.. topic.Partitions, .. added];
            return (ErrorCode.None, null);
        }
    }

    /// <summary>
    /// Deletes a topic; KAFKA_STORAGE_ERROR when its directory cannot be moved aside, and then the topic stays
    /// whole. The directory is moved before the topic is forgotten, or a recreated topic of the same name would
    /// reopen the old data (and so would the next start).
    /// </summary>
    public short Delete(string name)
    {
        lock (_adminLock)
        {
            if (!_topics.TryGetValue(name, out var topic))
            {
                return ErrorCode.UnknownTopicOrPartition;
            }

            // Closed first so no append or segment roll writes into the directory while it moves.
            CloseAll(topic.Partitions);

            // The Guid alone: a topic name of up to 249 characters plus a suffix would exceed the 255-byte file name limit.
            var graveyard = Path.Combine(_deletedDirectory, Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(_deletedDirectory);
                Directory.Move(topic.Directory, graveyard);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogDeleteFailed(logger, e, name);
                topic.Partitions = [.. Enumerable.Range(0, topic.Partitions.Length).Select(p => OpenPartition(topic, p))];
                return ErrorCode.KafkaStorageError;
            }

            _topics.TryRemove(name, out _);
            try
            {
                // First, or a power loss could undo the move and bring the topic back with files missing; when it
                // fails the graveyard stays as it is.
                FsyncDirectory(_topicsDirectory);
                Directory.Delete(graveyard, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Out of the topics directory already; the next start empties the graveyard.
                LogGraveyardNotEmptied(logger, e, graveyard);
            }

            LogTopicDeleted(logger, name);
            return ErrorCode.None;
        }
    }

    private string TooManyPartitions(int partitions) =>
        $"Number of partitions {partitions} exceeds this broker's limit of {options.MaxPartitionsPerTopic} per topic (max-partitions-per-topic).";

    private static string PartitionDirectory(Topic topic, int partition) =>
        Path.Combine(topic.Directory, partition.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private PartitionLog OpenPartition(Topic topic, int partition)
    {
        var log = new PartitionLog(topic.Name, partition, PartitionDirectory(topic, partition), () => topic.Config, flusher, time, logger)
        {
            Fsync = Fsync,
            FsyncDirectory = FsyncDirectory,
        };
        log.Open();
        return log;
    }

    private static void CloseAll(IEnumerable<PartitionLog> partitions)
    {
        foreach (var partition in partitions)
        {
            partition.Close();
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a topic.json the next start ignores what is left.
        }
    }

    private static void WriteTopicFile(Topic topic, int partitions, Dictionary<string, string> configs)
    {
        var path = Path.Combine(topic.Directory, TopicFileName);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, new TopicFile(partitions, configs));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose()
    {
        // Disposed by the server's StopAsync and again by the service provider at shutdown.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var topic in _topics.Values)
        {
            CloseAll(topic.Partitions);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded topic {Topic} with {Partitions} partitions and {Records} records")]
    private static partial void LogTopicLoaded(ILogger logger, string topic, int partitions, long records);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions")]
    private static partial void LogTopicCreated(ILogger logger, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not delete topic {Topic}: its directory could not be moved aside")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleted topic directory {Directory} could not be removed; it is retried at the next start")]
    private static partial void LogGraveyardNotEmptied(ILogger logger, Exception exception, string directory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not create {Partitions} partitions of topic {Topic}; what was created is removed")]
    private static partial void LogCreateFailed(ILogger logger, Exception exception, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted topic {Topic}")]
    private static partial void LogTopicDeleted(ILogger logger, string topic);
}
