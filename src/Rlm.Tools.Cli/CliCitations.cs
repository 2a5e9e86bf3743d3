using System.CommandLine;
using System.CommandLine.Parsing;

namespace Rlm.Tools.Cli;

/// <summary>
/// <c>--citations off|report|repair</c>, shared by <c>rlm</c>, <c>rlm chat</c> and <c>rlm mcp</c>: what the host does with
/// the citations of a final answer (<see cref="RlmOptions.CitationPolicy"/>).
/// </summary>
internal static class CliCitations
{
    /// <summary>The values, in help order, each with its policy.</summary>
    private static readonly (string Name, RlmCitationPolicy Policy)[] s_values =
    [
        ("off", RlmCitationPolicy.Off),
        ("report", RlmCitationPolicy.Report),
        ("repair", RlmCitationPolicy.Repair),
    ];

    /// <summary>Creates the option, default <c>report</c>.</summary>
    public static Option<RlmCitationPolicy> CreateOption()
    {
        var option = new Option<RlmCitationPolicy>("--citations")
        {
            Description = "What the host does with the citations of the final answer (document:line or (line N), optionally " +
                          "with a quote): report (default) checks each against the input and reports it (-v, --json, " +
                          "--trajectory-sensitive); repair also gives the root model one more turn, told which citations " +
                          "failed, to fix or drop them (counted as an iteration and spent from the budgets); off checks nothing.",
            HelpName = "off|report|repair",
            DefaultValueFactory = _ => RlmCitationPolicy.Report,

            // Only the three names: System.CommandLine's enum parsing would also take "1" or "Report,Repair".
            CustomParser = Parse,
        };
        option.CompletionSources.Add(s_values.Select(v => v.Name).ToArray());
        return option;
    }

    private static RlmCitationPolicy Parse(ArgumentResult result)
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        foreach (var (name, policy) in s_values)
        {
            if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
            {
                return policy;
            }
        }

        result.AddError($"--citations must be off, report or repair (got '{token}')");
        return RlmCitationPolicy.Report;
    }
}
