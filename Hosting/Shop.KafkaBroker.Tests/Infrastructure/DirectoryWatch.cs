using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>
/// The broker's directory fsync, remembering for each call the directory and the names it held then (sorted,
/// space-separated, so that assertions compare them by value).
/// </summary>
public sealed class DirectoryWatch
{
    private readonly List<(string Directory, string Names)> _synced = [];

    public IReadOnlyList<(string Directory, string Names)> Synced
    {
        get
        {
            lock (_synced)
            {
                return [.. _synced];
            }
        }
    }

    public void Fsync(string directory)
    {
        DirectorySync.Flush(directory);
        lock (_synced)
        {
            _synced.Add((directory, Names(directory)));
        }
    }

    /// <summary>The names in <paramref name="directory"/> now, as <see cref="Synced"/> lists them.</summary>
    public static string Names(string directory) =>
        string.Join(' ', Directory.EnumerateFileSystemEntries(directory).Select(entry => Path.GetFileName(entry)).Order(StringComparer.Ordinal));
}
