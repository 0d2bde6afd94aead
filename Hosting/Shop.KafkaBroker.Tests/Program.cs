using Confluent.Kafka;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests;

/// <summary>
/// The test host never calls this. Tests start the test assembly as a child process
/// (<c>dotnet Shop.KafkaBroker.Tests.dll group-member …</c>) to get a consumer they can SIGKILL.
/// It prints "processed VALUE" per committed message and "problem TEXT" per librdkafka protocol
/// problem; "pause" on stdin makes it stop consuming
/// (still heartbeating) and answer "paused", so the kill lands between messages.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["group-member", var bootstrap, var topic, var groupId, var strategy])
        {
            Console.Error.WriteLine("usage: group-member BOOTSTRAP TOPIC GROUP STRATEGY");
            return 2;
        }

        var paused = 0;
        var log = new ClientLog(problem =>
        {
            Console.Out.WriteLine($"problem {problem}");
            Console.Out.Flush();
        });
        var member = new GroupMember(bootstrap, topic, groupId, Enum.Parse<PartitionAssignmentStrategy>(strategy), log);
        using var consumer = member.Build();
        var commands = new Thread(() =>
        {
            while (Console.ReadLine() is { } line)
            {
                if (line == "pause")
                {
                    Interlocked.Exchange(ref paused, 1);
                }
            }
        }) { IsBackground = true };
        commands.Start();

        member.Run(consumer, value =>
        {
            Console.Out.WriteLine($"processed {value}");
            Console.Out.Flush();
        }, () => Volatile.Read(ref paused) == 1);
        Console.Out.WriteLine("paused");
        Console.Out.Flush();
        commands.Join();
        return 0;
    }
}
