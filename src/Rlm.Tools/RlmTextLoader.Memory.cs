using System.Runtime.InteropServices;
using System.Text;

namespace Rlm.Tools;

/// <summary>The memory the loader decodes into: native chunks for a pipe, huge pages for the string.</summary>
public static partial class RlmTextLoader
{
    /// <summary>Decoded text in native memory chunks of <see cref="ChunkChars"/>, each freed as soon as it is copied out.</summary>
    private sealed class NativeCharChunks(int maxLength) : IDisposable
    {
        private readonly List<(IntPtr Pointer, int Count)> _chunks = [];
        private long _length;

        public void Decode(Decoder decoder, ReadOnlySpan<byte> bytes, bool flush)
        {
            bool completed;
            do
            {
                // A surrogate pair needs two characters; start a new chunk rather than leave the decoder no room.
                if (_chunks.Count == 0 || _chunks[^1].Count > ChunkChars - 2)
                {
                    _chunks.Add((AllocateChunk(), 0));
                }

                var (pointer, count) = _chunks[^1];
                var destination = Chars(pointer, ChunkChars)[count..];
                decoder.Convert(bytes, destination, flush, out int used, out int chars, out completed);
                bytes = bytes[used..];
                _chunks[^1] = (pointer, count + chars);
                _length += chars;
                if (_length > maxLength)
                {
                    throw TooLarge(_length, maxLength);
                }
            }
            while (bytes.Length > 0 || (flush && !completed));
        }

        public string ToStringAndFree()
        {
            string text = string.Create((int)_length, _chunks, static (destination, chunks) =>
            {
                HugePages.Advise(destination);
                int written = 0;
                for (int i = 0; i < chunks.Count; i++)
                {
                    var (pointer, count) = chunks[i];
                    Chars(pointer, count).CopyTo(destination[written..]);
                    written += count;
                    FreeChunk(pointer);
                    chunks[i] = (IntPtr.Zero, 0);
                }
            });
            _chunks.Clear();
            return text;
        }

        public void Dispose()
        {
            foreach (var (pointer, _) in _chunks)
            {
                if (pointer != IntPtr.Zero)
                {
                    FreeChunk(pointer);
                }
            }

            _chunks.Clear();
        }

        private static unsafe Span<char> Chars(IntPtr pointer, int count) => new((void*)pointer, count);

        /// <summary>
        /// One chunk, aligned to a huge page and advised as such before it is written: a pipe's text then costs a few page
        /// faults per chunk instead of 4,096 (on this project's Linux VMs page faults were most of the load time).
        /// </summary>
        private static unsafe IntPtr AllocateChunk()
        {
            void* memory = NativeMemory.AlignedAlloc(ChunkChars * sizeof(char), (nuint)HugePages.HugePageBytes);
            HugePages.Advise(new Span<char>(memory, ChunkChars));
            return (IntPtr)memory;
        }

        private static unsafe void FreeChunk(IntPtr pointer) => NativeMemory.AlignedFree((void*)pointer);
    }

    /// <summary>
    /// On Linux, asks for transparent huge pages (2 MB) for the string's memory before it is first written: a 2 GB
    /// string then takes 1,000 page faults instead of 500,000, which on a virtual machine are most of the load time.
    /// A hint only: where it is not honored (other systems, THP off) nothing changes.
    /// </summary>
    private static partial class HugePages
    {
        private const int MadviseHugePage = 14; // MADV_HUGEPAGE
        internal const long HugePageBytes = 2 << 20;

        public static unsafe void Advise(Span<char> memory)
        {
            if (!OperatingSystem.IsLinux() || memory.Length * 2L < 4 * HugePageBytes)
            {
                return;
            }

            fixed (char* start = memory)
            {
                long first = ((long)start + HugePageBytes - 1) & ~(HugePageBytes - 1);
                long end = ((long)start + (memory.Length * 2L)) & ~(HugePageBytes - 1);
                if (end > first)
                {
                    _ = Madvise((nint)first, (nuint)(end - first), MadviseHugePage);
                }
            }
        }

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
        private static partial int Madvise(nint address, nuint length, int advice);
    }
}
