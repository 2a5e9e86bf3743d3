using Microsoft.Extensions.AI;
using Rlm.Tools.Tests.TestSupport;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary><see cref="RlmCitationPolicy.Repair"/>: one more root turn, told which citations failed, through <see cref="RecursiveLanguageModel.QueryAsync(string, IReadOnlyList{RlmDocument}, CancellationToken)"/>.</summary>
public sealed class CitationRepairTests
{
    private static readonly RlmDocument[] s_documents = [new("src/a.cs", "int x = 1;\nreturn x;\n")];

    [Fact]
    public async Task Repair_WrongCitation_TheRootIsToldWhy_AndItsFixedAnswerIsVerified()
    {
        string? told = null;
        var root = new ScriptedChatClient(
            _ => Final("x is returned at src/a.cs:1 \"return x;\""),
            messages =>
            {
                told = messages[^1].Text;
                return Final("x is returned at src/a.cs:2 \"return x;\"");
            });
        var events = new List<RlmEvent>();

        var result = await Rlm(root, RlmCitationPolicy.Repair, events).QueryAsync("q?", s_documents);

        Assert.Equal(2, root.Requests.Count);
        Assert.Equal("[citations] The host checked your answer against the context: 1 citation failed:\n" +
            "- src/a.cs:1 \"return x;\": the quote is not in line 1 of src/a.cs; it occurs at src/a.cs:2\n" +
            "You have one more reply: call final(answer) again with these citations fixed (the right document:line and the exact quoted text) or dropped. " +
            "If that reply does not call final, your first answer stands as it is.", told);
        Assert.Equal("x is returned at src/a.cs:2 \"return x;\"", result.Answer);
        var citation = Assert.Single(result.Citations);
        Assert.True(citation.Verified);
        Assert.Equal(2, result.Statistics.Iterations); // the repair turn is counted
        var checks = events.OfType<RlmCitationsChecked>().ToList();
        Assert.Equal(2, checks.Count);
        Assert.Equal("citations: 0 of 1 verified", checks[0].Describe());
        Assert.Equal("citations: 1 of 1 verified", checks[1].Describe());
    }

    [Fact]
    public async Task Repair_TurnWithoutFinal_KeepsTheFirstAnswer_WithItsFailedCitations()
    {
        var root = new ScriptedChatClient(
            _ => Final("see src/a.cs:9"),
            _ => TestChatClient.Text("I cannot fix it."));

        var result = await Rlm(root, RlmCitationPolicy.Repair).QueryAsync("q?", s_documents);

        Assert.Equal(2, root.Requests.Count);
        Assert.Equal("see src/a.cs:9", result.Answer);
        Assert.Equal(RlmStopReason.Final, result.StopReason);
        Assert.False(Assert.Single(result.Citations).Verified);
        Assert.Equal(2, result.Statistics.Iterations);
    }

    [Fact]
    public async Task Repair_OnTheLastIteration_StillGetsItsTurn()
    {
        var root = new ScriptedChatClient(_ => Final("see src/a.cs:9"), _ => Final("see src/a.cs:2"));

        var result = await new RecursiveLanguageModel(root, root, new RlmOptions { CitationPolicy = RlmCitationPolicy.Repair, MaxIterations = 1 }).QueryAsync("q?", s_documents);

        Assert.Equal("see src/a.cs:2", result.Answer);
        Assert.True(Assert.Single(result.Citations).Verified);
    }

    [Theory]
    [InlineData(RlmCitationPolicy.Report, "see src/a.cs:9")] // reported, never repaired
    [InlineData(RlmCitationPolicy.Repair, "see src/a.cs:2")] // all verified: no repair turn
    public async Task NoRepairTurn_UnderReport_OrWhenEveryCitationHolds(RlmCitationPolicy policy, string answer)
    {
        var root = new ScriptedChatClient(_ => Final(answer), _ => Final("second"));

        var result = await Rlm(root, policy).QueryAsync("q?", s_documents);

        Assert.Single(root.Requests);
        Assert.Equal(answer, result.Answer);
        Assert.Single(result.Citations);
    }

    [Fact]
    public async Task Repair_IsBudgeted_ATokenBudgetSpentByTheFirstAnswer_KeepsIt()
    {
        var root = new ScriptedChatClient(
            _ => TestChatClient.Calls(new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 10 }, ("final", new { answer = "see src/a.cs:9" })),
            _ => Final("see src/a.cs:2"));

        var result = await new RecursiveLanguageModel(root, root, new RlmOptions { CitationPolicy = RlmCitationPolicy.Repair, MaxTotalTokens = 500 }).QueryAsync("q?", s_documents);

        Assert.Single(root.Requests);
        Assert.Equal("see src/a.cs:9", result.Answer);
        Assert.False(Assert.Single(result.Citations).Verified);
    }

    private static RecursiveLanguageModel Rlm(IChatClient root, RlmCitationPolicy policy, List<RlmEvent>? events = null) =>
        new(root, root, new RlmOptions { CitationPolicy = policy, Progress = events is null ? null : new SyncProgress(events.Add) });

    private static ChatResponse Final(string answer) => TestChatClient.Calls(("final", new { answer }));

    private sealed class SyncProgress(Action<RlmEvent> report) : IProgress<RlmEvent>
    {
        public void Report(RlmEvent value) => report(value);
    }
}
