using System.Net.Sockets;
using Npgsql;

namespace Shop.EventBus;

public static class DatabaseFailures
{
    /// <summary>
    /// Whether the database (not the work) is the problem: the server is unreachable, restarting or overloaded, the
    /// transaction lost a deadlock or serialization race, or a table is not there yet (the service's migrations are
    /// still running). The bus retries such failures without counting them as attempts, since dead-lettering every
    /// message during a database outage or a deployment would be wrong; background workers wait and try again.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }:
                case NpgsqlException { IsTransient: true }:
                case SocketException:
                    return true;
            }
        }

        return false;
    }
}
