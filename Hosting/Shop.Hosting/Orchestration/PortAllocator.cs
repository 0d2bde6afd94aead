using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Shop.Hosting.Orchestration;

/// <summary>Finds free loopback ports and checks that fixed ones are free.</summary>
internal static class PortAllocator
{
    // Above the fixed ports in use: launch profiles (5xxx), the dashboard's (18888-18890) and common servers' defaults.
    private const int LowestPort = 20_000;

    private static readonly Lock Lock = new();

    // Ports handed out by this process recently: two apps allocating at once must not get the same one.
    private static readonly HashSet<int> Recent = [];

    // Other AppHosts on the machine (tests run several side by side) choose from the same range: each port handed out
    // is also locked in a file under the temp directory for the rest of this process's life, and a port another
    // process holds is skipped. The lock goes with the process, however it ends.
    private static readonly string ReservationDirectory = Path.Combine(Path.GetTempPath(), "shop-hosting-ports");
    private static readonly List<FileStream> Reservations = [];
    private static bool _swept;

    /// <summary>
    /// The kernel's range for outgoing connections' local ports (Linux's, or the IANA range elsewhere). A port chosen
    /// there stays free only until some client's connection happens to take it, and a resource binds its port seconds
    /// after allocation (tens of seconds on a loaded machine): ports are therefore chosen below it, from 20000.
    /// </summary>
    public static (int Low, int High) Ephemeral { get; } = ReadEphemeralRange();

    // Initialised after Ephemeral (textual order): a thousand ports below the range at least, or the kernel chooses.
    private static readonly bool ChooseBelowEphemeral = Ephemeral.Low - LowestPort >= 1_000;

    public static int AllocateFreePort()
    {
        lock (Lock)
        {
            if (!_swept)
            {
                _swept = true;
                RemoveStaleReservations(ReservationDirectory);
            }

            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = ChooseBelowEphemeral ? Random.Shared.Next(LowestPort, Ephemeral.Low) : AnyPortFromTheKernel();
                if (Recent.Add(port) && IsFree(port) && TryReserve(port))
                {
                    return port;
                }
            }

            throw new DistributedApplicationException("Could not find a free TCP port on the loopback interface.");
        }
    }

    /// <summary>Whether nothing listens on the port on IPv4 or IPv6 loopback.</summary>
    public static bool IsFree(int port) => CanBind(IPAddress.Loopback, port) && (!Socket.OSSupportsIPv6 || CanBind(IPAddress.IPv6Loopback, port));

    private static int AnyPortFromTheKernel()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Removes the files of reservations no process holds any more (each run leaves one per port it was given).
    /// A file is removed only while this process holds its lock, so no live reservation goes.
    /// </summary>
    internal static void RemoveStaleReservations(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory))
        {
            try
            {
                using var stale = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Held by a running process (or not ours): a live reservation.
            }
        }
    }

    private static bool TryReserve(int port)
    {
        try
        {
            Directory.CreateDirectory(ReservationDirectory);
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; another process's open fails.
            var reservation = new FileStream(
                Path.Combine(ReservationDirectory, port.ToString(CultureInfo.InvariantCulture)),
                FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            if (IsRemoved(reservation))
            {
                // Another process swept the file between this open and its lock: a new file of that name may be
                // locked by a third process now, so this lock reserves nothing.
                reservation.Dispose();
                return false;
            }

            Reservations.Add(reservation);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            // Another user's directory: no reservation, the port was free a moment ago all the same.
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool IsRemoved(FileStream stream)
    {
        // Linux names an open file whose name was removed "… (deleted)".
        var link = new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}");
        return link.LinkTarget?.EndsWith(" (deleted)", StringComparison.Ordinal) == true;
    }

    private static (int Low, int High) ReadEphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (49_152, 65_535);
        }
    }

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // As Kestrel does: connections in TIME_WAIT do not make a port unusable for a listener.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
        catch (SocketException)
        {
            // Address family not available (no IPv6 loopback): nothing can listen there either.
            return true;
        }
    }
}
