using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Scoring;
using Rlm.Tools.OpenAI;

namespace Rlm.Tools.Eval.Running;

/// <summary>What a run did.</summary>
public sealed record RunSummary(int Total, int AlreadyDone, int Ran, int Errors, bool Canceled, double MeanScore);

/// <summary>
/// Runs the tasks of a tasks file in one mode, in parallel up to a limit, appending one result per task to the
/// results file as it finishes. A results file that already exists is resumed: tasks with a result (without error)
/// are not run again.
/// </summary>
public sealed class Runner
{
    private readonly RunSettings _settings;
    private readonly TextWriter _progress;
    private readonly Func<IChatClient>? _clientOverride;

    /// <param name="settings">The run's settings.</param>
    /// <param name="progress">Where progress lines go (stderr for the command).</param>
    /// <param name="clientOverride">Tests only: the chat client to use instead of the one the mode selects.</param>
    public Runner(RunSettings settings, TextWriter progress, Func<IChatClient>? clientOverride = null)
    {
        _settings = settings;
        _progress = progress;
        _clientOverride = clientOverride;
    }

    public string ModelName => _settings.Mode == RunModes.Offline ? OfflineChatClient.ModelId : _settings.Model!;

    public async Task<RunSummary> RunAsync(CancellationToken cancellationToken)
    {
        Validate();
        var tasks = TaskFile.Read(_settings.TasksPath);
        var duplicate = tasks.GroupBy(t => t.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new UsageException($"{_settings.TasksPath}: task id '{duplicate.Key}' occurs more than once.");
        }

        var prices = LoadPrices();
        var finished = PrepareResultsFile();
        var pending = tasks.Where(t => !finished.Contains(t.Id)).ToList();
        if (_settings.Limit is { } limit)
        {
            pending = pending.Take(limit).ToList();
        }

        var alreadyDone = tasks.Count(t => finished.Contains(t.Id));
        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rlm-eval run: {tasks.Count} tasks, {alreadyDone} already done, {pending.Count} to run; mode {_settings.Mode}, model {ModelName}, {_settings.MaxConcurrency} at a time"));
        if (pending.Count == 0)
        {
            return new RunSummary(tasks.Count, alreadyDone, 0, 0, false, 0);
        }

        var (root, worker) = CreateClients();
        var writeLock = new object();
        var done = 0;
        var errors = 0;
        double scoreSum = 0;
        var canceled = false;
        using var writer = new StreamWriter(_settings.OutPath, append: true, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
        try
        {
            await Parallel.ForEachAsync(
                pending,
                new ParallelOptions { MaxDegreeOfParallelism = _settings.MaxConcurrency, CancellationToken = cancellationToken },
                async (task, ct) =>
                {
                    var result = await RunOneAsync(task, root, worker, prices, ct).ConfigureAwait(false);
                    lock (writeLock)
                    {
                        writer.WriteLine(Jsonl.Serialize(result));
                        done++;
                        scoreSum += result.Score;
                        if (result.Error is not null)
                        {
                            errors++;
                        }

                        var error = result.Error is null ? "" : "  ERROR " + OneLine(result.Error);
                        var trajectory = result.Trajectory is null ? "" : "  trajectory " + TrajectoryPath(result.Trajectory);
                        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"[{done}/{pending.Count}] {task.Id}  score {result.Score:0.00}  {result.WallTimeMs / 1000:0.0}s  mean {scoreSum / done:0.000}{error}{trajectory}"));
                    }
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            canceled = true;
            _progress.WriteLine("rlm-eval run: interrupted; finished results are saved, run the same command again to resume.");
        }
        finally
        {
            (root as IDisposable)?.Dispose();
            if (!ReferenceEquals(root, worker))
            {
                (worker as IDisposable)?.Dispose();
            }
        }

        return new RunSummary(tasks.Count, alreadyDone, done, errors, canceled, done == 0 ? 0 : scoreSum / done);
    }

    private void Validate()
    {
        if (!File.Exists(_settings.TasksPath))
        {
            throw new UsageException($"tasks file not found: {_settings.TasksPath}");
        }

        if (Array.IndexOf(RunModes.All, _settings.Mode) < 0)
        {
            throw new UsageException($"unknown mode '{_settings.Mode}' (use rlm, direct or offline)");
        }

        if (_settings.Mode != RunModes.Offline && string.IsNullOrWhiteSpace(_settings.Model))
        {
            throw new UsageException($"--model is required for --mode {_settings.Mode}");
        }

        if (_settings.MaxConcurrency < 1)
        {
            throw new UsageException("--max-concurrency must be at least 1");
        }

        if (_settings.WindowTokens < 1)
        {
            throw new UsageException("--window-tokens must be at least 1");
        }
    }

    private PriceTable LoadPrices()
    {
        if (!File.Exists(_settings.PricesPath))
        {
            throw new UsageException($"price table not found: {_settings.PricesPath}");
        }

        try
        {
            return PriceTable.Load(_settings.PricesPath);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>Reads the existing results (if any) and returns the ids of finished tasks; drops torn lines.</summary>
    private HashSet<string> PrepareResultsFile()
    {
        var path = _settings.OutPath;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        if (!File.Exists(path))
        {
            return [];
        }

        if (_settings.Restart)
        {
            File.Delete(path);
            if (Directory.Exists(_settings.TrajectoriesPath))
            {
                foreach (var old in Directory.EnumerateFiles(_settings.TrajectoriesPath, "*.jsonl"))
                {
                    File.Delete(old); // the discarded results' trajectories
                }
            }

            return [];
        }

        var valid = new List<string>();
        var results = new List<EvalResult>();
        var torn = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                results.Add(Jsonl.Deserialize<EvalResult>(line));
                valid.Add(line);
            }
            catch (System.Text.Json.JsonException)
            {
                torn++;
            }
        }

        var other = results.FirstOrDefault(r => r.Mode != _settings.Mode || !string.Equals(r.Model, ModelName, StringComparison.Ordinal));
        if (other is not null)
        {
            throw new UsageException($"{path} holds results of mode {other.Mode}, model {other.Model}; use another --out (or --restart to discard it)");
        }

        if (torn > 0)
        {
            // An interrupted write left a partial line: rewrite the file without it, atomically.
            var temp = path + ".tmp";
            File.WriteAllLines(temp, valid, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
            _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rlm-eval run: dropped {torn} incomplete line(s) from {path}"));
        }
        else if (new FileInfo(path).Length > 0 && !EndsWithNewLine(path))
        {
            File.AppendAllText(path, "\n");
        }

        return results.Where(r => r.Error is null).Select(r => r.TaskId).ToHashSet(StringComparer.Ordinal);
    }

    private static bool EndsWithNewLine(string path)
    {
        using var stream = File.OpenRead(path);
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() == '\n';
    }

    private (IChatClient Root, IChatClient Worker) CreateClients()
    {
        if (_clientOverride is not null)
        {
            var client = _clientOverride();
            return (client, client);
        }

        if (_settings.Mode == RunModes.Offline)
        {
            var offline = new OfflineChatClient();
            return (offline, offline);
        }

        var clientOptions = _settings.NetworkTimeout is { } networkTimeout
            ? new OpenAIChatClientFactoryOptions { NetworkTimeout = networkTimeout }
            : null;
        var root = OpenAIChatClientFactory.Create(_settings.Model!, _settings.ApiKey, _settings.BaseUrl, clientOptions);
        if (_settings.Mode == RunModes.Rlm && !string.IsNullOrWhiteSpace(_settings.WorkerModel) && _settings.WorkerModel != _settings.Model)
        {
            return (root, OpenAIChatClientFactory.Create(_settings.WorkerModel!, _settings.ApiKey, _settings.BaseUrl, clientOptions));
        }

        return (root, root);
    }

    private RlmOptions CreateOptions()
    {
        var options = new RlmOptions
        {
            RootModelId = _settings.Mode == RunModes.Offline ? null : _settings.Model,
            WorkerModelId = _settings.Mode == RunModes.Offline ? null : (_settings.WorkerModel ?? _settings.Model),
        };
        if (_settings.RlmMaxConcurrency is { } concurrency)
        {
            options.MaxConcurrency = concurrency;
        }

        if (_settings.MaxIterations is { } iterations)
        {
            options.MaxIterations = iterations;
        }

        if (_settings.MaxDepth is { } depth)
        {
            options.MaxDepth = depth;
        }

        if (_settings.MaxSubCalls is { } subCalls)
        {
            options.MaxSubCalls = subCalls;
        }

        return options;
    }

    private async Task<EvalResult> RunOneAsync(EvalTask task, IChatClient root, IChatClient worker, PriceTable prices, CancellationToken cancellationToken)
    {
        var result = new EvalResult
        {
            TaskId = task.Id,
            Family = task.Family,
            Mode = _settings.Mode,
            Model = ModelName,
            WorkerModel = _settings.Mode == RunModes.Rlm ? (_settings.WorkerModel ?? _settings.Model) : null,
            TargetTokens = task.TargetTokens,
            ContextChars = task.ContextChars,
            Kind = task.Metadata.TryGetPropertyValue("kind", out var kind) ? kind?.ToString() : null,
            Gold = task.Gold,
            AnswerType = task.AnswerType,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_settings.TaskTimeout is { } limit)
        {
            timeout.CancelAfter(limit);
        }

        var stopwatch = Stopwatch.StartNew();
        try
        {
            var context = TaskFile.LoadContext(task, _settings.TasksPath);
            if (_settings.Mode == RunModes.Direct)
            {
                await RunDirectAsync(task, context, root, result, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await RunRlmAsync(task, context, root, worker, result, timeout.Token).ConfigureAwait(false);
            }

            var score = Scorer.Score(task, result.Answer);
            result.Score = score.Score;
            result.ScoreDetails = score.Details;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            result.Error = string.Create(CultureInfo.InvariantCulture, $"TimeoutException: the task ran longer than {_settings.TaskTimeout!.Value.TotalSeconds:0} s");
        }
        catch (Exception ex)
        {
            result.Error = ex.GetType().Name + ": " + OneLine(ex.Message);
        }

        result.WallTimeMs = Math.Round(stopwatch.Elapsed.TotalMilliseconds, 1);
        result.CostUsd = result.UsageByModel.Count > 0 ? prices.Cost(result.UsageByModel) : null; // no usage reported: unknown
        result.FinishedAt = DateTimeOffset.UtcNow;
        return result;
    }

    private async Task RunRlmAsync(EvalTask task, string context, IChatClient root, IChatClient worker, EvalResult result, CancellationToken cancellationToken)
    {
        var rlm = new RecursiveLanguageModel(root, worker, CreateOptions());
        RlmResult r;
        try
        {
            r = await rlm.QueryAsync(task.Question, context, cancellationToken).ConfigureAwait(false);
        }
        catch (RlmModelException e) when (e.PartialResult is { } partial)
        {
            WriteTrajectory(task, partial, result); // the run so far: where the root model failed
            throw;
        }

        result.Answer = r.Answer;
        result.StopReason = RlmStopReasonText.GetName(r.StopReason);
        result.InputTokens = r.Usage.InputTokenCount ?? 0;
        result.OutputTokens = r.Usage.OutputTokenCount ?? 0;
        foreach (var (model, usage) in r.UsageByModel)
        {
            result.UsageByModel[model] = new TokenUsage { InputTokens = usage.InputTokenCount ?? 0, OutputTokens = usage.OutputTokenCount ?? 0 };
        }

        var s = r.Statistics;
        result.ModelCalls = s.ModelCalls;
        result.SubCalls = s.SubCalls;
        result.FailedSubCalls = s.FailedSubCalls;
        result.MaxDepthReached = s.MaxDepthReached;
        result.Iterations = s.Iterations;
        result.Citations = r.Citations.Count;
        result.VerifiedCitations = r.Citations.Count(c => c.Verified);
        foreach (var (tool, count) in s.ToolCalls)
        {
            result.ToolCalls[tool] = count;
        }

        WriteTrajectory(task, r, result);
    }

    /// <summary>
    /// Writes the run's trajectory as <c>rlm --trajectory</c> does (<see cref="RlmTrajectoryWriter"/>, JSON Lines) into
    /// the trajectories folder, one file per task, and links it from the result. A file that cannot be written fails the
    /// task (its error says why; a resumed run retries it).
    /// </summary>
    private void WriteTrajectory(EvalTask task, RlmResult run, EvalResult result)
    {
        string folder = _settings.TrajectoriesPath;
        string name = FileName(task.Id) + ".jsonl";
        Directory.CreateDirectory(folder);
        using (var file = File.Create(Path.Combine(folder, name)))
        {
            RlmTrajectoryWriter.WriteJsonLines(run, file, new RlmTrajectoryOptions { IncludeSensitiveData = _settings.TrajectorySensitive, Question = task.Question });
        }

        result.Trajectory = Path.GetFileName(folder) + "/" + name;
    }

    /// <summary>A task id as a file name: characters other than letters, digits, '.', '-' and '_' become '_' (then a hash of the id keeps names distinct).</summary>
    public static string FileName(string taskId)
    {
        var safe = new string([.. taskId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]).TrimStart('.');
        if (safe.Length > 0 && safe.Length <= 120 && string.Equals(safe, taskId, StringComparison.Ordinal))
        {
            return safe;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(taskId)))[..8];
        return (safe.Length > 120 ? safe[..120] : safe) + "-" + hash;
    }

    /// <summary>A result's trajectory (relative to the results file's folder) as a path from the current folder, as the results file was given.</summary>
    private string TrajectoryPath(string trajectory) => Path.Combine(Path.GetDirectoryName(_settings.OutPath) ?? "", trajectory);

    private async Task RunDirectAsync(EvalTask task, string context, IChatClient client, EvalResult result, CancellationToken cancellationToken)
    {
        var (prompt, cut, sent) = DirectPrompt.Build(context, task.Question, _settings.WindowTokens);
        result.Cut = cut;
        result.ContextCharsSent = sent;
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, prompt)],
            new ChatOptions { ModelId = _settings.Model },
            cancellationToken).ConfigureAwait(false);
        result.Answer = response.Text ?? "";
        result.StopReason = EvalResult.DirectStopReason;
        result.InputTokens = response.Usage?.InputTokenCount ?? 0;
        result.OutputTokens = response.Usage?.OutputTokenCount ?? 0;
        result.UsageByModel[response.ModelId ?? _settings.Model ?? "direct"] = new TokenUsage { InputTokens = result.InputTokens, OutputTokens = result.OutputTokens };
        result.ModelCalls = 1;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
