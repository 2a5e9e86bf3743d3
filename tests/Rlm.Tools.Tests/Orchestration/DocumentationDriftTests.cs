using System.Reflection;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// The README keeps up with the code: every public event type is in the event table, every stop reason and every option
/// is named. Adding one without documenting it fails here, not in a user's first hour.
/// </summary>
public sealed class DocumentationDriftTests
{
    private static readonly Lazy<string> s_readme = new(() => File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")));

    [Fact]
    public void EveryPublicEventType_IsARowOfTheEventTable()
    {
        var table = Section("### The event stream").Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        var events = typeof(RlmEvent).Assembly.GetExportedTypes().Where(t => t.IsSubclassOf(typeof(RlmEvent)) && !t.IsAbstract).Select(t => t.Name).ToList();

        Assert.True(events.Count >= 15, $"{events.Count} event types");
        Assert.All(events, name => Assert.True(table.Any(row => row.Split('|')[1].Contains($"`{name}`", StringComparison.Ordinal)), $"{name} has no row in README's event table"));
    }

    [Fact]
    public void EveryStopReason_IsNamedWhereTheResultIsDescribed()
    {
        string section = Section("## The library");

        Assert.All(Enum.GetNames<RlmStopReason>(), name => Assert.Contains($"`{name}`", section, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryOption_IsInTheOptionsList()
    {
        string section = Section("### Options (defaults)");
        var names = typeof(RlmOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name).ToList();

        Assert.True(names.Count >= 35, $"{names.Count} options");
        Assert.All(names, name => Assert.True(section.Contains($"`{name}`", StringComparison.Ordinal), $"RlmOptions.{name} is not in README's \"Options (defaults)\""));
    }

    /// <summary>The text from <paramref name="heading"/> to the next heading of the same or a higher level.</summary>
    internal static string Section(string heading)
    {
        string readme = s_readme.Value;
        int start = readme.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no \"{heading}\"");
        string level = heading[..(heading.IndexOf(' ', StringComparison.Ordinal) + 1)];
        int end = start + heading.Length + 2;
        while ((end = readme.IndexOf("\n#", end, StringComparison.Ordinal)) >= 0)
        {
            string rest = readme[(end + 1)..];
            int hashes = rest.TakeWhile(c => c == '#').Count();
            if (hashes <= level.Length - 1 && rest.Length > hashes && rest[hashes] == ' ')
            {
                return readme[start..end];
            }

            end++;
        }

        return readme[start..];
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rlm.Tools.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Rlm.Tools.sln) was not found above " + AppContext.BaseDirectory);
    }
}
