using System.Runtime.InteropServices;

namespace Shop.Hosting.Orchestration;

/// <summary>The few POSIX calls the orchestrator needs that .NET does not expose.</summary>
internal static partial class PosixProcess
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);

    public static bool IsRoot => GetEffectiveUserId() == 0;

    /// <summary>Signals the process group led by <paramref name="pid"/> (children run in their own session), then the process.</summary>
    public static bool Signal(int pid, int signal)
    {
        var groupSignalled = Kill(-pid, signal) == 0;
        var processSignalled = Kill(pid, signal) == 0 || Marshal.GetLastPInvokeError() != ESRCH;
        return groupSignalled || processSignalled;
    }

    public static bool IsAlive(int pid) => Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH;

    /// <summary>The kernel's start time of a process (clock ticks since boot), to tell a PID from a reused one.</summary>
    public static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public static (uint Uid, uint Gid)? LookupUser(string userName)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == userName)
            {
                return (uint.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), uint.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Chown(path, uid, gid) != 0)
        {
            throw new IOException($"Cannot change the owner of '{path}' (errno {Marshal.GetLastPInvokeError()}).");
        }
    }
}
