using Microsoft.Extensions.Logging;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// The level of each line of one output stream of a resource, for the logger the testing builder forwards resource
/// output to. .NET's <c>simple</c> console formatter (which every project gets) starts an entry with its level
/// (<c>warn: Category[0]</c>) and writes the message and any exception on the lines after it, indented; those keep
/// the entry's level. Every other line is <see cref="LogLevel.Information"/>. This lets a test's output show the
/// services' warnings and errors without their information lines.
/// </summary>
internal sealed class OutputLevelReader
{
    private LogLevel _entryLevel = LogLevel.Information;

    /// <summary>The level of <paramref name="line"/> (ANSI escapes removed); lines of one stream, in order.</summary>
    public LogLevel LevelOf(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length > 0 && char.IsWhiteSpace(line[0]))
        {
            return _entryLevel;
        }

        _entryLevel = line.Length > 5 && line[4] == ':' && line[5] == ' '
            ? line[..4] switch
            {
                "trce" => LogLevel.Trace,
                "dbug" => LogLevel.Debug,
                "warn" => LogLevel.Warning,
                "fail" => LogLevel.Error,
                "crit" => LogLevel.Critical,
                _ => LogLevel.Information,
            }
            : LogLevel.Information;
        return _entryLevel;
    }
}
