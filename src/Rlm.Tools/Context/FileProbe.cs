using System.Runtime.InteropServices;

namespace Rlm.Tools.Context;

/// <summary>What a directory entry is, as <c>lstat</c>/<c>stat</c> tell it, without opening it.</summary>
internal enum EntryKind
{
    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link (only when links are not followed).</summary>
    Link,

    /// <summary>A named pipe.</summary>
    Fifo,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A character device such as <c>/dev/zero</c>.</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>Zero bytes long and of a type this platform does not tell (it is never opened).</summary>
    EmptyOrSpecial,
}

/// <summary>The identity of a folder for cycle detection: device and inode where known, else its resolved path.</summary>
internal readonly record struct EntryId(ulong Device, ulong Inode, string? Path);

/// <summary>An entry's kind, length in bytes and identity.</summary>
internal readonly record struct EntryInfo(EntryKind Kind, long Length, EntryId Id);

/// <summary>
/// Tells what a path is without opening it, so that a FIFO, socket or device is never opened (opening a FIFO blocks;
/// reading <c>/dev/zero</c> never ends). .NET exposes no file type beyond directory and link, so on Linux this asks
/// <c>statx(2)</c> (one stable, architecture-independent layout). Hand-written because the packages that bind it are not fit
/// for a core library: Mono.Unix is served only as a 2021 pre-release with a native shim, Tmds.LibC (0.5.0) is Linux-only
/// raw bindings of all of libc; one P/Invoke with a managed fallback is smaller than either. Elsewhere,
/// or when <c>statx</c> is unavailable, a non-directory of zero bytes is reported as <see cref="EntryKind.EmptyOrSpecial"/>:
/// FIFOs, sockets and devices all report zero bytes, so they are still never opened.
/// </summary>
internal static partial class FileProbe
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtNoAutomount = 0x800;
    private const uint StatxBasic = 0x1 | 0x2 | 0x100 | 0x200; // STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE
    private const int AtEmptyPath = 0x1000;
    private const int ORdOnly = 0;
    private const int ONoCtty = 0x100;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int ENOSYS = 38;
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int EACCES = 13;
    private const int ELOOP = 40;

    private static volatile bool s_statxUnavailable = !OperatingSystem.IsLinux();

    // O_NOFOLLOW is 0100000 on ARM and POWER, 0400000 on the generic Linux ABI (x86, RISC-V, LoongArch, s390x).
    private static readonly int NoFollowFlag = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le
        ? 0x8000 : 0x20000;

    /// <summary>Describes <paramref name="path"/>; with <paramref name="followLinks"/>, what a link finally points at.</summary>
    /// <exception cref="FileNotFoundException">The path (or a link's target) does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The path may not be inspected.</exception>
    /// <exception cref="IOException">Any other failure; a link loop says so in its message.</exception>
    public static EntryInfo Probe(string path, bool followLinks)
    {
        if (!s_statxUnavailable && TryStatx(path, followLinks, out var info))
        {
            return info;
        }

        return ProbeManaged(path, followLinks);
    }

    private static unsafe bool TryStatx(string path, bool followLinks, out EntryInfo info)
    {
        // struct statx is 256 bytes on every architecture.
        byte* buffer = stackalloc byte[256];
        int flags = AtNoAutomount | (followLinks ? 0 : AtSymlinkNoFollow);
        if (Statx(AtFdCwd, path, flags, StatxBasic, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOSYS or EPERM)
            {
                // An old kernel, or a seccomp filter that refuses the call: fall back for the rest of the process.
                s_statxUnavailable = true;
                info = default;
                return false;
            }

            string message = $"{Marshal.GetPInvokeErrorMessage(errno)}: {path}";
            throw errno switch
            {
                ENOENT or ENOTDIR => new FileNotFoundException(message, path),
                EACCES => new UnauthorizedAccessException(message),
                ELOOP => new IOException($"too many levels of symbolic links (a link loop): {path}"),
                _ => new IOException(message),
            };
        }

        // Native-endian fields at their fixed offsets: stx_mode, stx_ino, stx_size, stx_dev_major, stx_dev_minor.
        int mode = *(ushort*)(buffer + 28) & 0xF000; // S_IFMT
        ulong inode = *(ulong*)(buffer + 32);
        long size = (long)*(ulong*)(buffer + 40);
        ulong device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        var kind = mode switch
        {
            0x8000 => EntryKind.Regular,
            0x4000 => EntryKind.Directory,
            0xA000 => EntryKind.Link,
            0x1000 => EntryKind.Fifo,
            0xC000 => EntryKind.Socket,
            0x2000 => EntryKind.CharacterDevice,
            0x6000 => EntryKind.BlockDevice,
            _ => EntryKind.EmptyOrSpecial,
        };
        info = new EntryInfo(kind, size, new EntryId(device, inode, null));
        return true;
    }

    /// <summary>The fallback of <see cref="Probe"/> where <c>statx</c> is unavailable: .NET's own metadata (internal for tests).</summary>
    internal static EntryInfo ProbeManaged(string path, bool followLinks)
    {
        FileSystemInfo entry = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (entry.LinkTarget is not null)
        {
            if (!followLinks)
            {
                return new EntryInfo(EntryKind.Link, 0, default);
            }

            entry = entry.ResolveLinkTarget(returnFinalTarget: true) ?? entry;
        }

        if (!entry.Exists)
        {
            throw new FileNotFoundException($"not found: {path}", path);
        }

        var id = new EntryId(0, 0, Path.TrimEndingDirectorySeparator(entry.FullName));
        return entry switch
        {
            DirectoryInfo => new EntryInfo(EntryKind.Directory, 0, id),
            FileInfo { Length: 0 } => new EntryInfo(EntryKind.EmptyOrSpecial, 0, id),
            FileInfo file => new EntryInfo(EntryKind.Regular, file.Length, id),
            _ => new EntryInfo(EntryKind.EmptyOrSpecial, 0, id),
        };
    }

    /// <summary>
    /// Opens a file the walk found to be regular, for reading, or returns <see langword="null"/> when it is no longer a
    /// regular file (replaced by a FIFO, a device or, unless <paramref name="followLinks"/>, a link since it was inspected).
    /// On Linux the open itself can neither block (<c>O_NONBLOCK</c>: a FIFO opens at once) nor pass through a final link
    /// (<c>O_NOFOLLOW</c>), and the type is checked on the open descriptor; elsewhere the file is opened as usual.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static unsafe FileStream? OpenRegular(string path, bool followLinks)
    {
        if (s_statxUnavailable)
        {
            return TextFileReader.OpenRead(path);
        }

        int flags = ORdOnly | ONonBlock | OCloExec | ONoCtty | (followLinks ? 0 : NoFollowFlag);
        int fd = Open(path, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ELOOP)
            {
                return null; // O_NOFOLLOW met a link
            }

            string message = $"{Marshal.GetPInvokeErrorMessage(errno)}: {path}";
            throw errno switch
            {
                EACCES => new UnauthorizedAccessException(message),
                ENOENT or ENOTDIR => new FileNotFoundException(message, path),
                _ => new IOException(message),
            };
        }

        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        byte* buffer = stackalloc byte[256];
        if (Statx(fd, string.Empty, AtEmptyPath, StatxBasic, buffer) != 0 || (*(ushort*)(buffer + 28) & 0xF000) != 0x8000)
        {
            handle.Dispose();
            return null;
        }

        // O_NONBLOCK has no effect on a regular file's reads.
        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
