using System.Runtime.InteropServices;
using Rlm.Tools.Context;

namespace Rlm.Tools.Tests.Context;

public class ContextViewTests
{
    [Fact]
    public void LineIndex_CountsLines_FinalNewlineDoesNotStartALine()
    {
        Assert.Equal(3, ContextText.FromString("a\nb\nc").LineCount);
        Assert.Equal(3, ContextText.FromString("a\nb\nc\n").LineCount);
        Assert.Equal(1, ContextText.FromString("").LineCount);
        Assert.Equal(2, ContextText.FromString("\n\n").LineCount);
    }

    [Fact]
    public void LineEnd_ExcludesCarriageReturnOfCrLf()
    {
        var text = ContextText.FromString("one\r\ntwo\r\n");
        Assert.Equal("one", text.Text[text.LineStart(0)..text.LineEnd(0)]);
        Assert.Equal("two", text.Text[text.LineStart(1)..text.LineEnd(1)]);
    }

    [Fact]
    public void Slice_SharesTheRunString_NoCopyOfTheText()
    {
        string original = string.Concat(Enumerable.Repeat("line of text\n", 1000));
        var view = new ContextView(ContextText.FromString(original));
        var slice = view.Slice(130, 5000).Slice(13, 26);

        Assert.Same(original, view.GetText());
        Assert.Same(original, slice.Source.Text);
        ref char first = ref MemoryMarshal.GetReference(slice.Span);
        ref char expected = ref MemoryMarshal.GetReference(original.AsSpan(143));
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(ref first, ref expected));
        Assert.Equal("line of text\n", slice.Span.ToString());
    }

    [Fact]
    public void Slice_LinesAreRelativeToTheView()
    {
        var view = new ContextView(ContextText.FromString("zero\none\ntwo\nthree\n"));
        var slice = view.Slice(5, 13); // "one\ntwo\n"
        Assert.Equal(2, slice.LineCount);
        Assert.Equal("one", slice.Line(0).ToString());
        Assert.Equal("two", slice.Line(1).ToString());
        Assert.Equal(1, slice.LineOfOffset(4));
    }

    [Fact]
    public void Slice_OutsideTheView_Throws()
    {
        var view = new ContextView(ContextText.FromString("abc"));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.Slice(2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.Slice(2, 1));
    }

    [Fact]
    public void Documents_JoinWithHeaders_AndLocateGivesDocumentAndOneBasedLine()
    {
        var text = ContextText.FromDocuments([new RlmDocument("a.txt", "alpha\nbeta"), new RlmDocument("dir/b.txt", "gamma\ndelta\n")]);
        Assert.Equal("==> a.txt <==\nalpha\nbeta\n==> dir/b.txt <==\ngamma\ndelta\n", text.Text);
        var view = new ContextView(text);

        int delta = text.Text.IndexOf("delta", StringComparison.Ordinal);
        Assert.Equal(new DocumentLocation("dir/b.txt", 2), view.Locate(delta));
        Assert.Equal(new DocumentLocation("a.txt", 1), view.Locate(text.Text.IndexOf("alpha", StringComparison.Ordinal)));
        Assert.Null(view.Locate(0)); // a header line belongs to no document line
        Assert.Equal(["a.txt", "dir/b.txt"], view.DocumentNames());
        Assert.Equal(["dir/b.txt"], view.Slice(delta, delta + 3).DocumentNames());
    }

    [Fact]
    public void Document_NameWithLineBreak_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new RlmDocument("a\nb", "x"));
        Assert.Throws<ArgumentException>(() => new RlmDocument(" ", "x"));
    }
}
