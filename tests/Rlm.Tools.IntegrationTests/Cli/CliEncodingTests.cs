using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Rlm.Tools.IntegrationTests.Cli;

/// <summary>
/// The real <c>rlm</c> process on files written in the encodings people have: Latin-1 and Windows-1252, UTF-16 without a
/// byte order mark, gzip and other compressed files; and <c>--stdin</c> from a pipe and from a terminal.
/// </summary>
public sealed class CliEncodingTests(ITestOutputHelper output) : IDisposable
{
    private const string French = "Le café crème à Zürich coûte 5 francs.\nLa gare de Bâle est grande.\n";

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }

        return buffer.ToArray();
    }

    [Fact]
    public async Task File_Latin1_ZurichMatches_AndVerboseSaysTheEncodingWasGuessed()
    {
        string path = _temp.WriteBytes("notes.txt", Encoding.Latin1.GetBytes(French));

        var result = await RlmProcess.RunAsync("Where does it cost 5 francs? Zürich?", "--file", path, "-v");

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Zürich coûte 5 francs", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("\uFFFD", result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"Decoded: {path}: windows-1252 (guessed)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dir_MixedEncodingsAndCompression_JsonInputSaysHowEachFileWasRead()
    {
        _temp.WriteBytes("d/latin1.txt", Encoding.Latin1.GetBytes(French));
        _temp.WriteBytes("d/utf16.txt", new UnicodeEncoding(bigEndian: false, byteOrderMark: false).GetBytes("Report from Zürich, in UTF-16.\r\n"));
        _temp.WriteBytes("d/changelog.Debian.gz", Gzip("pkg (1.2-3) unstable; urgency=medium\n  * Fix the Zürich timezone.\n"u8.ToArray()));
        _temp.WriteBytes("d/bad.txt", [.. "Zürich, Genève\nbad "u8, 0xFF, .. " byte\n"u8]);
        _temp.WriteBytes("d/data.zst", [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x00, 0x00, 0x00]);
        _temp.WriteText("d/plain.txt", "plain ascii\n");

        // Run from the folder itself: `--dir .` names documents without a prefix, as `grep -r .` would.
        var result = await RlmProcess.RunAsync(["Zürich?", "--dir", ".", "--json"], workingDirectory: Path.Combine(_temp.Path, "d"));

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StdOut);
        var input = json.RootElement.GetProperty("input");
        Assert.Equal(5, input.GetProperty("documents").GetInt32());
        var decoded = input.GetProperty("decoded").EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);
        Assert.Equal(["bad.txt", "changelog.Debian.gz", "latin1.txt", "utf16.txt"], decoded.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("windows-1252", decoded["latin1.txt"].GetProperty("encoding").GetString());
        Assert.True(decoded["latin1.txt"].GetProperty("guessed").GetBoolean());
        Assert.Equal("utf-16le", decoded["utf16.txt"].GetProperty("encoding").GetString());
        Assert.Equal("gzip", decoded["changelog.Debian.gz"].GetProperty("compression").GetString());
        Assert.Equal(1, decoded["bad.txt"].GetProperty("replaced_bytes").GetInt64());
        Assert.Equal("utf-8", decoded["bad.txt"].GetProperty("encoding").GetString());
        var skipped = Assert.Single(input.GetProperty("skipped").EnumerateArray());
        Assert.Equal("data.zst", skipped.GetProperty("path").GetString());
        Assert.Equal("compressed", skipped.GetProperty("reason").GetString());
        Assert.Contains("Zürich", json.RootElement.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dir_GzipFile_ItsTextIsSearched()
    {
        _temp.WriteBytes("doc/changelog.Debian.gz", Gzip("openssl (3.0.15-1~deb12u1) bookworm; urgency=medium\n  * Fix CVE-2024-9143.\n"u8.ToArray()));

        var result = await RlmProcess.RunAsync("Which CVE was fixed?", "--dir", Path.Combine(_temp.Path, "doc"), "-v");

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Decompressed: 1 gzip file", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Decoded:", result.StdErr, StringComparison.Ordinal); // clean UTF-8 inside: nothing more to say
        Assert.Contains("changelog.Debian.gz:2", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("CVE-2024-9143", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task File_Utf16WithoutByteOrderMark_IsRead_NotRefusedAsBinary(bool bigEndian)
    {
        string path = _temp.WriteBytes("win.txt", new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes("The build number is 20411.\r\nZürich office.\r\n"));

        var result = await RlmProcess.RunAsync("What is the build number?", "--file", path, "-v");

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("20411", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(bigEndian ? "utf-16be" : "utf-16le", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_Zstd_IsAUsageErrorSayingCompressed_NotBinary()
    {
        string path = _temp.WriteBytes("log.zst", [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x00, 0x00, 0x00]);

        var result = await RlmProcess.RunAsync("q?", "--file", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("zstd-compressed", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("zstd -d", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("binary", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdin_PipedLatin1_IsDecoded_AndNoTerminalNoteIsPrinted()
    {
        var result = await RlmProcess.RunAsync(
            ["Where does it cost 5 francs? Zürich?", "--stdin", "-v"],
            whileStdinOpen: async process =>
            {
                await process.StandardInput.BaseStream.WriteAsync(Encoding.Latin1.GetBytes(French));
                await process.StandardInput.BaseStream.FlushAsync();
            });

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Zürich coûte 5 francs", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Decoded: standard input: windows-1252 (guessed)", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("reading from the terminal", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void TerminalNote_IsWrittenOnlyWhenStdinIsATerminal()
    {
        var atTerminal = new StringWriter();
        var piped = new StringWriter();

        Rlm.Tools.Cli.InputLoader.NoteIfTerminal(stdinIsTerminal: true, atTerminal);
        Rlm.Tools.Cli.InputLoader.NoteIfTerminal(stdinIsTerminal: false, piped);

        Assert.Equal("rlm: reading from the terminal; end with Ctrl+D" + Environment.NewLine, atTerminal.ToString());
        Assert.Empty(piped.ToString());
    }

    [Fact]
    public async Task Stdin_AtARealTerminal_SaysHowToEndTheInputBeforeWaiting()
    {
        // A pseudo-terminal from util-linux's script(1): rlm's stdin is then a real tty.
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/script"))
        {
            output.WriteLine("SKIPPED: no /usr/bin/script on this machine.");
            return;
        }

        string command = $"'{ProcessPath()}' '{RlmProcess.RlmDll}' 'what is the code?' --stdin --offline";
        var info = new ProcessStartInfo("/usr/bin/script") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-qec", command, "/dev/null" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("OPENAI_API_KEY");
        info.Environment.Remove("OPENAI_BASE_URL");
        using var process = Process.Start(info)!;
        var seen = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new char[4096];

        // The note comes before anything is typed: it is what tells a person rlm waits for them.
        while (!seen.ToString().Contains("reading from the terminal; end with Ctrl+D", StringComparison.Ordinal))
        {
            int n = await process.StandardOutput.ReadAsync(buffer, timeout.Token);
            Assert.True(n > 0, $"script ended before the note: {seen}");
            seen.Append(buffer, 0, n);
        }

        await process.StandardInput.WriteAsync("the code is 4471\n\u0004");
        await process.StandardInput.FlushAsync();
        seen.Append(await process.StandardOutput.ReadToEndAsync(timeout.Token));
        await process.WaitForExitAsync(timeout.Token);

        output.WriteLine(seen.ToString());
        Assert.Contains("the code is 4471", seen.ToString().Split("end with Ctrl+D")[1], StringComparison.Ordinal);
        Assert.Contains("(line 1): the code is 4471", seen.ToString(), StringComparison.Ordinal);
    }

    private static string ProcessPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
