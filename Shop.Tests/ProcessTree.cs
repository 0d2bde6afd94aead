using System.Globalization;
using System.Runtime.InteropServices;

namespace Shop.Tests;

/// <summary>Processes as the kernel sees them (/proc), to check that nothing outlives the AppHost.</summary>
internal static partial class ProcessTree
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    public static void Signal(int pid, int signal) => Kill(pid, signal);

    public static IReadOnlyList<int> DescendantsOf(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ParentOf(pid) is { } parent)
            {
                (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
            }
        }

        var result = new List<int>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var next))
        {
            foreach (var child in children.GetValueOrDefault(next) ?? [])
            {
                result.Add(child);
                pending.Enqueue(child);
            }
        }

        return result;
    }

    /// <summary>Running, as opposed to gone or a zombie waiting to be reaped.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private static int? ParentOf(int pid) => Stat(pid)?.Parent;

    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
