namespace Rlm.Tools.Eval.Model;

/// <summary>
/// Writes and reads task files. Contexts longer than an inline limit go to side files
/// <c>&lt;tasks-file-name&gt;.contexts/&lt;context-id&gt;.txt</c> next to the tasks file, written once per context
/// and referenced by relative path, so a 1M-token context (about 4 MB) is never copied into every record.
/// </summary>
public static class TaskFile
{
    /// <summary>The default inline limit: 400,000 characters (about 100K tokens).</summary>
    public const int DefaultInlineMaxChars = 400_000;

    /// <summary>Writes <paramref name="tasks"/> to <paramref name="path"/>.</summary>
    /// <param name="tasks">The tasks, each with its context inline in <see cref="EvalTask.Context"/>.</param>
    /// <param name="path">The JSONL path.</param>
    /// <param name="inlineMaxChars">Contexts longer than this go to side files.</param>
    /// <returns>The number of side files written.</returns>
    public static int Write(IEnumerable<EvalTask> tasks, string path, int inlineMaxChars = DefaultInlineMaxChars)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var sideDirectoryName = Path.GetFileName(fullPath) + ".contexts";
        var written = new HashSet<string>(StringComparer.Ordinal);
        var temp = fullPath + ".tmp";
        using (var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
        {
            writer.NewLine = "\n";
            foreach (var task in tasks)
            {
                var context = task.Context ?? throw new InvalidOperationException($"Task {task.Id} has no inline context to write.");
                if (context.Length > inlineMaxChars)
                {
                    var relative = sideDirectoryName + "/" + task.ContextId + ".txt";
                    if (written.Add(task.ContextId))
                    {
                        Directory.CreateDirectory(Path.Combine(directory, sideDirectoryName));
                        File.WriteAllText(Path.Combine(directory, sideDirectoryName, task.ContextId + ".txt"), context, new System.Text.UTF8Encoding(false));
                    }

                    task.Context = null;
                    task.ContextFile = relative;
                    writer.WriteLine(Jsonl.Serialize(task));
                    task.Context = context;
                    task.ContextFile = null;
                }
                else
                {
                    writer.WriteLine(Jsonl.Serialize(task));
                }
            }
        }

        File.Move(temp, fullPath, overwrite: true);
        return written.Count;
    }

    /// <summary>Reads the tasks of a file (contexts in side files stay unloaded; see <see cref="LoadContext"/>).</summary>
    public static List<EvalTask> Read(string path) => Jsonl.ReadAll<EvalTask>(path);

    /// <summary>Returns a task's context, reading its side file when it has one.</summary>
    /// <param name="task">The task.</param>
    /// <param name="tasksPath">The path of the tasks file the task came from.</param>
    public static string LoadContext(EvalTask task, string tasksPath)
    {
        if (task.Context is not null)
        {
            return task.Context;
        }

        if (task.ContextFile is null)
        {
            throw new FormatException($"Task {task.Id} has neither context nor context_file.");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(tasksPath))!;
        var file = Path.GetFullPath(Path.Combine(directory, task.ContextFile));
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"Context file of task {task.Id} not found: {file}", file);
        }

        return File.ReadAllText(file);
    }
}
