using Jint;
using Jint.Native;
using Jint.Runtime;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// <c>%TypedArray%.prototype.sort()</c> without a comparator, for long numeric typed arrays: Jint's own sorts inside one
/// built-in step with no check of the limits (6e7 doubles took 13 s). This one copies the elements out as keys whose
/// integer order is the specification's numeric order (-0 before +0, NaN last), sorts them in chunks and merges them
/// with the limits checked, and writes them back: the same result, with two 8-byte copies per element.
/// </summary>
internal static class JsTypedArraySort
{
    /// <summary>Working memory per element: the keys and the merge buffer.</summary>
    public const int BytesPerElement = 16;

    private const int CheckEvery = 1 << 16;

    private const int ChunkLength = 1 << 18;

    /// <summary>Sorts <paramref name="array"/> (numbers, not BigInts) in place and returns it.</summary>
    public static JsValue Sort(Engine engine, JsTypedArray array)
    {
        int length = (int)array.Length;
        var keys = new long[length];
        for (int i = 0; i < length; i++)
        {
            if ((i & (CheckEvery - 1)) == 0)
            {
                engine.Constraints.Check();
            }

            keys[i] = KeyOf(TypeConverter.ToNumber(array[i]));
        }

        for (int start = 0; start < length; start += ChunkLength)
        {
            Array.Sort(keys, start, Math.Min(ChunkLength, length - start));
            engine.Constraints.Check();
        }

        var buffer = new long[length];
        long merged = 0;
        for (int width = ChunkLength; width < length; width *= 2)
        {
            for (int left = 0; left < length; left += 2 * width)
            {
                int middle = Math.Min(left + width, length), right = (int)Math.Min((long)left + (2L * width), length);
                int a = left, b = middle, to = left;
                while (to < right)
                {
                    buffer[to++] = b >= right || (a < middle && keys[a] <= keys[b]) ? keys[a++] : keys[b++];
                    if ((++merged & (CheckEvery - 1)) == 0)
                    {
                        engine.Constraints.Check();
                    }
                }
            }

            (keys, buffer) = (buffer, keys);
        }

        for (int i = 0; i < length; i++)
        {
            if ((i & (CheckEvery - 1)) == 0)
            {
                engine.Constraints.Check();
            }

            array[i] = JsNumber.Create(ValueOf(keys[i]));
        }

        return array;
    }

    /// <summary>
    /// The IEEE bits with the magnitude bits flipped for negatives: signed order is then numeric order with -0 just
    /// before +0. Every NaN (whatever its sign and payload) becomes the largest key.
    /// </summary>
    private static long KeyOf(double value)
    {
        if (double.IsNaN(value))
        {
            return long.MaxValue;
        }

        long bits = BitConverter.DoubleToInt64Bits(value);
        return bits ^ ((bits >> 63) & long.MaxValue);
    }

    private static double ValueOf(long key) =>
        key == long.MaxValue ? double.NaN : BitConverter.Int64BitsToDouble(key ^ ((key >> 63) & long.MaxValue));
}
