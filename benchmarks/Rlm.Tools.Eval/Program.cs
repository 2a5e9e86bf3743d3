using Rlm.Tools.Eval.Cli;

return await EvalCli.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
