using System.CommandLine;
using System.Globalization;
using Rlm.Tools.Eval.Generation;
using Rlm.Tools.Eval.Model;
using Rlm.Tools.Eval.Reporting;
using Rlm.Tools.Eval.Running;

namespace Rlm.Tools.Eval.Cli;

/// <summary>The <c>rlm-eval</c> command line: <c>generate</c>, <c>run</c> and <c>report</c>.</summary>
public static class EvalCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Interrupted = 130;

    /// <summary>Parses and runs a command line. Bad input is one line on <paramref name="error"/> and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = Build(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine("rlm-eval: " + OneLine(parse.Errors[0].Message) + " (see rlm-eval --help)");
            return BadInput;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UsageException or FormatException or FileNotFoundException or DirectoryNotFoundException)
        {
            error.WriteLine("rlm-eval: " + OneLine(ex.Message));
            return BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("rlm-eval: interrupted");
            return Interrupted;
        }
        catch (Exception ex)
        {
            error.WriteLine("rlm-eval: error: " + ex.GetType().Name + ": " + OneLine(ex.Message));
            return Failed;
        }
    }

    private static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "rlm-eval: long-context tasks with exact ground truth (S-NIAH, OOLONG-synth, OOLONG-Pairs, log aggregation), " +
            "run against an OpenAI-compatible endpoint or the offline model, scored as RULER, OOLONG and the RLM paper do. " +
            "Lengths are in tokens, estimated as characters / 4.");
        root.Subcommands.Add(GenerateCommand(output, error));
        root.Subcommands.Add(RunCommand(error));
        root.Subcommands.Add(ReportCommand(output, error));
        return root;
    }

    private static Command GenerateCommand(TextWriter output, TextWriter error)
    {
        var family = new Option<string>("--family") { Description = "Family: s-niah, s-niah-decoy, oolong, oolong-pairs, logs; several separated by commas, or 'all'.", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "Context length in tokens (≈ characters / 4): 8192, 8k (×1024), 1m (×1,048,576); several separated by commas. 1k to 1m.", Required = true };
        var count = new Option<int>("--count") { Description = "Tasks per family and length.", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Seed; the same arguments always give the same tasks.", DefaultValueFactory = _ => 42 };
        var outPath = new Option<string>("--out") { Description = "The tasks file to write (JSON Lines).", Required = true };
        var haystack = new Option<string>("--haystack") { Description = "S-NIAH haystack: repeat (RULER's filler sentences), prose (varied prose), or mixed (alternate).", DefaultValueFactory = _ => "mixed" };
        var valueType = new Option<string>("--value-type") { Description = "S-NIAH value: number (7 digits), uuid, or mixed (alternate).", DefaultValueFactory = _ => "mixed" };
        var decoys = new Option<int>("--decoys") { Description = "Decoy needles in s-niah-decoy.", DefaultValueFactory = _ => 8 };
        var perContext = new Option<int>("--questions-per-context") { Description = "OOLONG questions asked about each generated context.", DefaultValueFactory = _ => 10 };
        var inlineMax = new Option<int>("--inline-max-chars") { Description = "Contexts longer than this many characters go to side files next to the tasks file.", DefaultValueFactory = _ => TaskFile.DefaultInlineMaxChars };
        haystack.AcceptOnlyFromAmong("repeat", "prose", "mixed");
        valueType.AcceptOnlyFromAmong("number", "uuid", "mixed");

        var command = new Command("generate", "Generate tasks with exact gold answers.")
        {
            family, tokens, count, seed, outPath, haystack, valueType, decoys, perContext, inlineMax,
        };
        command.SetAction(parse =>
        {
            var families = ParseFamilies(parse.GetValue(family)!);
            var lengths = ParseTokenList(parse.GetValue(tokens)!);
            var n = parse.GetValue(count);
            if (n < 1)
            {
                throw new UsageException("--count must be at least 1");
            }

            var decoyCount = parse.GetValue(decoys);
            if (decoyCount is < 1 or > 100)
            {
                throw new UsageException("--decoys must be between 1 and 100");
            }

            var questions = parse.GetValue(perContext);
            if (questions < 1)
            {
                throw new UsageException("--questions-per-context must be at least 1");
            }

            var inline = parse.GetValue(inlineMax);
            if (inline < 0)
            {
                throw new UsageException("--inline-max-chars must not be negative");
            }

            var settings = new GeneratorSettings
            {
                Niah = new NiahSettings
                {
                    Haystack = parse.GetValue(haystack) switch { "repeat" => HaystackKind.Repeat, "prose" => HaystackKind.Prose, _ => null },
                    ValueType = parse.GetValue(valueType) is "number" or "uuid" ? parse.GetValue(valueType) : null,
                    Decoys = decoyCount,
                },
                OolongQuestionsPerContext = questions,
            };
            var s = parse.GetValue(seed);
            var path = parse.GetValue(outPath)!;
            var all = families.SelectMany(f => lengths.SelectMany(t => TaskGenerator.Generate(f, t, n, s, settings)));
            var counter = 0;
            var sideFiles = TaskFile.Write(all.Select(t => { counter++; return t; }), path, inline);
            var side = sideFiles > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({sideFiles} context side files in {Path.GetFileName(path)}.contexts/)") : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {counter} tasks to {path}{side}"));
            return Ok;
        });
        return command;
    }

    private static Command RunCommand(TextWriter error)
    {
        var tasks = new Option<string>("--tasks") { Description = "The tasks file.", Required = true };
        var mode = new Option<string>("--mode") { Description = "rlm (RecursiveLanguageModel), direct (whole context in one prompt, cut to --window-tokens), or offline (the offline model through the engine).", Required = true };
        var outPath = new Option<string>("--out") { Description = "The results file (JSON Lines). An existing file is resumed: finished tasks are not run again.", Required = true };
        var baseUrl = new Option<string?>("--base-url") { Description = "OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (default https://api.openai.com/v1). The API key comes from OPENAI_API_KEY." };
        var model = new Option<string?>("--model") { Description = "Model id (root model in rlm mode). Required for rlm and direct." };
        var workerModel = new Option<string?>("--worker-model") { Description = "Worker model for sub-calls in rlm mode (default: --model)." };
        var maxConcurrency = new Option<int>("--max-concurrency") { Description = "Tasks run at once.", DefaultValueFactory = _ => 4 };
        var rlmConcurrency = new Option<int?>("--rlm-max-concurrency") { Description = "Model requests in flight at once inside one RLM run (engine default 8)." };
        var maxIterations = new Option<int?>("--max-iterations") { Description = "RLM: most model turns per session (engine default 30)." };
        var maxDepth = new Option<int?>("--max-depth") { Description = "RLM: maximum sub-call depth (engine default 1, the paper's setting)." };
        var maxSubCalls = new Option<int?>("--max-sub-calls") { Description = "RLM: most sub-calls per run (engine default 100)." };
        var window = new Option<int>("--window-tokens") { Description = "Direct mode: prompt window in tokens (≈ characters / 4); longer contexts are cut (head and tail kept) and recorded as cut.", DefaultValueFactory = _ => 128_000 };
        var taskTimeout = new Option<int>("--task-timeout") { Description = "Seconds one task may run before it is recorded as failed (0: no limit).", DefaultValueFactory = _ => 1800 };
        var networkTimeout = new Option<int?>("--network-timeout") { Description = "Seconds per HTTP request (default 600)." };
        var prices = new Option<string?>("--prices") { Description = "Price table (USD per 1M tokens); default prices.json next to rlm-eval." };
        var limit = new Option<int?>("--limit") { Description = "Run at most this many pending tasks." };
        var restart = new Option<bool>("--restart") { Description = "Discard an existing results file (and its trajectories) instead of resuming it." };
        var trajectorySensitive = new Option<bool>("--trajectory-sensitive") { Description = "Write the question, answers, tool arguments and result excerpts into the trajectories (by default only tool names, timings, counts and usage, as rlm --trajectory)." };
        mode.AcceptOnlyFromAmong(RunModes.All);

        var command = new Command("run", "Run tasks and score the answers.")
        {
            tasks, mode, outPath, baseUrl, model, workerModel, maxConcurrency, rlmConcurrency, maxIterations, maxDepth, maxSubCalls,
            window, taskTimeout, networkTimeout, prices, limit, restart, trajectorySensitive,
        };
        command.SetAction(async (parse, ct) =>
        {
            Uri? endpoint = null;
            if (parse.GetValue(baseUrl) is { Length: > 0 } url && (!Uri.TryCreate(url, UriKind.Absolute, out endpoint) || (endpoint.Scheme != "http" && endpoint.Scheme != "https")))
            {
                throw new UsageException($"--base-url is not an http(s) URL: {url}");
            }

            var timeoutSeconds = parse.GetValue(taskTimeout);
            if (timeoutSeconds < 0)
            {
                throw new UsageException("--task-timeout must not be negative");
            }

            var network = parse.GetValue(networkTimeout);
            if (network is < 1)
            {
                throw new UsageException("--network-timeout must be at least 1");
            }

            foreach (var (name, value) in new[] { ("--rlm-max-concurrency", parse.GetValue(rlmConcurrency)), ("--max-iterations", parse.GetValue(maxIterations)), ("--max-sub-calls", parse.GetValue(maxSubCalls)), ("--limit", parse.GetValue(limit)) })
            {
                if (value is < 1)
                {
                    throw new UsageException($"{name} must be at least 1");
                }
            }

            if (parse.GetValue(maxDepth) is { } depth && depth is < 1 or > 8)
            {
                throw new UsageException("--max-depth must be between 1 and 8");
            }

            var settings = new RunSettings
            {
                TasksPath = parse.GetValue(tasks)!,
                OutPath = parse.GetValue(outPath)!,
                Mode = parse.GetValue(mode)!,
                BaseUrl = endpoint,
                Model = parse.GetValue(model),
                WorkerModel = parse.GetValue(workerModel),
                MaxConcurrency = parse.GetValue(maxConcurrency),
                RlmMaxConcurrency = parse.GetValue(rlmConcurrency),
                MaxIterations = parse.GetValue(maxIterations),
                MaxDepth = parse.GetValue(maxDepth),
                MaxSubCalls = parse.GetValue(maxSubCalls),
                WindowTokens = parse.GetValue(window),
                TaskTimeout = timeoutSeconds == 0 ? null : TimeSpan.FromSeconds(timeoutSeconds),
                NetworkTimeout = network is { } n ? TimeSpan.FromSeconds(n) : null,
                PricesPath = parse.GetValue(prices) ?? PriceTable.DefaultPath,
                Limit = parse.GetValue(limit),
                Restart = parse.GetValue(restart),
                TrajectorySensitive = parse.GetValue(trajectorySensitive),
                ApiKey = Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
            };
            var summary = await new Runner(settings, error).RunAsync(ct).ConfigureAwait(false);
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rlm-eval run: {summary.Ran} run now ({summary.Errors} failed), {summary.AlreadyDone} done before; mean score of this session {summary.MeanScore:0.000}; results in {settings.OutPath}"));
            if (settings.Mode != RunModes.Direct)
            {
                error.WriteLine($"rlm-eval run: each task's trajectory is in {settings.TrajectoriesPath}{Path.DirectorySeparatorChar} (its path is the result's \"trajectory\"); render one with: rlm view <file> -o out.html");
            }
            return summary.Canceled ? Interrupted : summary.Errors > 0 ? Failed : Ok;
        });
        return command;
    }

    private static Command ReportCommand(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("results") { Description = "One or more results files; several are shown side by side.", Arity = ArgumentArity.OneOrMore };
        var outPath = new Option<string?>("--out") { Description = "Write the Markdown to this file instead of standard output." };
        var command = new Command("report", "Summarise results as Markdown tables per family and mode.") { files, outPath };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(files)!;
            foreach (var p in paths)
            {
                if (!File.Exists(p))
                {
                    throw new UsageException($"results file not found: {p}");
                }
            }

            string? target = parse.GetValue(outPath) is { Length: > 0 } o ? o : null;
            var markdown = Reporter.Render(Reporter.Load(paths), paths, target is null ? null : Path.GetDirectoryName(Path.GetFullPath(target)));
            if (target is not null)
            {
                File.WriteAllText(target, markdown);
                error.WriteLine($"rlm-eval report: wrote {target}");
            }
            else
            {
                output.Write(markdown);
            }

            return Ok;
        });
        return command;
    }

    private static List<string> ParseFamilies(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var families = new List<string>();
        foreach (var name in names)
        {
            if (name.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                families.AddRange(Families.All);
            }
            else if (Families.All.Contains(name.ToLowerInvariant()))
            {
                families.Add(name.ToLowerInvariant());
            }
            else
            {
                throw new UsageException($"unknown family '{name}' (use {string.Join(", ", Families.All)} or all)");
            }
        }

        if (families.Count == 0)
        {
            throw new UsageException("--family is empty");
        }

        return families.Distinct().ToList();
    }

    private static List<int> ParseTokenList(string text)
    {
        var lengths = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TokenMath.TryParseTokens(part, out var tokens) || tokens < TokenMath.MinTokens || tokens > TokenMath.MaxTokens)
            {
                throw new UsageException($"--tokens '{part}' is not a length from 1k (1024) to 1m (1048576) tokens");
            }

            lengths.Add(tokens);
        }

        if (lengths.Count == 0)
        {
            throw new UsageException("--tokens is empty");
        }

        return lengths.Distinct().ToList();
    }

    private static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();
}
