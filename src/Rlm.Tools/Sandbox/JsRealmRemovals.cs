using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Rlm.Tools.Sandbox;

/// <summary>
/// Takes out of the realm what a single-threaded sandbox of separate calls cannot hold to a call's limits (measured on
/// Jint 4.18: <c>Atomics.wait</c> on a <c>SharedArrayBuffer</c> never returns, and <c>FinalizationRegistry</c> callbacks
/// run inside a later call).
/// </summary>
/// <remarks>
/// Removed: <c>SharedArrayBuffer</c> and <c>Atomics.wait</c>/<c>Atomics.waitAsync</c> (there is no second thread to
/// share with or be woken by, so a wait can only deadlock; the other <c>Atomics</c> operations work on ordinary typed
/// arrays); <c>FinalizationRegistry</c> (its callbacks run whenever the collector gets to them, i.e. in a later call);
/// <c>Temporal</c> (its instants hand out BigInts that no script names, see <see cref="JsBigIntGuard"/>); and
/// <c>ShadowRealm</c> (a second realm would have none of these guards). <c>WeakRef</c> stays: it runs no code.
/// </remarks>
internal static class JsRealmRemovals
{
    /// <summary>The globals deleted from the realm.</summary>
    public static readonly IReadOnlyList<string> RemovedGlobals = ["SharedArrayBuffer", "FinalizationRegistry", "Temporal", "ShadowRealm"];

    public static void Install(Engine engine)
    {
        foreach (string name in RemovedGlobals)
        {
            engine.Global.Delete(name);
        }

        if (engine.GetValue("Atomics") is ObjectInstance atomics)
        {
            foreach (string name in (ReadOnlySpan<string>)["wait", "waitAsync"])
            {
                string message = $"Atomics.{name} is not available in the sandbox: it runs one thread, so nothing could wake the wait.";
                var refusal = new ClrFunction(engine, name, (_, _) => throw new Jint.Runtime.JavaScriptException(engine.Intrinsics.TypeError, message), 4, PropertyFlag.Configurable);
                atomics.FastSetProperty(name, new PropertyDescriptor(refusal, PropertyFlag.NonEnumerable | PropertyFlag.Writable | PropertyFlag.Configurable));
            }
        }
    }
}
