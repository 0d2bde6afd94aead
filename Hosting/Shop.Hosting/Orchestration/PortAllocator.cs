using System.Net;
using System.Net.Sockets;

namespace Shop.Hosting.Orchestration;

/// <summary>Finds free loopback ports and checks that fixed ones are free.</summary>
internal static class PortAllocator
{
    private static readonly Lock Lock = new();

    // Ports handed out by this process recently: two apps allocating at once must not get the same one.
    private static readonly HashSet<int> Recent = [];

    public static int AllocateFreePort()
    {
        lock (Lock)
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Recent.Add(port) && IsFree(port))
                {
                    return port;
                }
            }

            throw new DistributedApplicationException("Could not find a free TCP port on the loopback interface.");
        }
    }

    /// <summary>Whether nothing listens on the port on IPv4 or IPv6 loopback.</summary>
    public static bool IsFree(int port) => CanBind(IPAddress.Loopback, port) && (!Socket.OSSupportsIPv6 || CanBind(IPAddress.IPv6Loopback, port));

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
