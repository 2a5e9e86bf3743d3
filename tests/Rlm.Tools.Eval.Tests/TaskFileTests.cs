using Rlm.Tools.Eval.Generation;
using Rlm.Tools.Eval.Model;

namespace Rlm.Tools.Eval.Tests;

public class TaskFileTests
{
    [Fact]
    public void Long_contexts_go_to_side_files_written_once_per_context()
    {
        var dir = TestSupport.TempDirectory();
        var path = Path.Combine(dir, "tasks.jsonl");
        var tasks = TaskGenerator.Generate(Families.Oolong, 2048, 12, 3).Concat(TaskGenerator.Generate(Families.OolongPairs, 2048, 3, 3)).ToList();
        var contexts = tasks.Select(t => t.ContextId).Distinct().Count();

        var sideFiles = TaskFile.Write(tasks, path, inlineMaxChars: 1000);

        Assert.Equal(contexts, sideFiles);
        Assert.Equal(contexts, Directory.GetFiles(Path.Combine(dir, "tasks.jsonl.contexts")).Length);
        var read = TaskFile.Read(path);
        Assert.All(read, t => Assert.Null(t.Context));
        Assert.All(read, t => Assert.StartsWith("tasks.jsonl.contexts/", t.ContextFile));
        for (var i = 0; i < tasks.Count; i++)
        {
            Assert.Equal(tasks[i].Context, TaskFile.LoadContext(read[i], path));
            Assert.Equal(tasks[i].Gold, read[i].Gold);
        }
    }

    [Fact]
    public void Short_contexts_stay_inline_and_round_trip()
    {
        var dir = TestSupport.TempDirectory();
        var path = Path.Combine(dir, "tasks.jsonl");
        var tasks = TaskGenerator.Generate(Families.SNiahDecoy, 1024, 3, 3).ToList();
        Assert.Equal(0, TaskFile.Write(tasks, path));
        var read = TaskFile.Read(path);
        Assert.Equal(tasks.Select(Jsonl.Serialize), read.Select(Jsonl.Serialize));
        Assert.False(Directory.Exists(path + ".contexts"));
    }
}
