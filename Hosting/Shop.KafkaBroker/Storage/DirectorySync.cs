using System.Runtime.InteropServices;

namespace Shop.KafkaBroker.Storage;

/// <summary>
/// fsync of a directory: it makes the creation, deletion and renaming of the files in it durable. Without it a
/// power loss can take back a new segment's directory entry even though the segment's data was fsynced. .NET opens
/// no handle on a directory (it refuses one as access denied), so this calls libc.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;

    public static void Flush(string directory)
    {
        // NTFS journals its metadata and has no directory fsync.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var descriptor = Open(directory, ReadOnly);
        if (descriptor < 0)
        {
            throw Failure("open", directory);
        }

        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw Failure("fsync", directory);
            }
        }
        finally
        {
            Close(descriptor);
        }
    }

    private static IOException Failure(string call, string directory) =>
        new($"{call} of directory {directory} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int descriptor);
}
