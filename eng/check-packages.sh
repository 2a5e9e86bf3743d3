#!/usr/bin/env bash
# The README's "Use it as a library" path, from a fresh clone of HEAD: dotnet pack the four libraries (Release, warnings
# as errors) into ./nupkg, check each package's metadata and symbols package, then restore samples/Consumer (outside
# Rlm.Tools.sln; its nuget.config takes Rlm.Tools* from ./nupkg only) with a package cache of its own and run it: an
# offline QueryAsync whose answer it checks. Exit 0 when all of it works. .ci/run counts it as one test.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "ci: packages: $*" >&2; exit 1; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # A clone holds the committed tree only, as a new user gets it (and has no remote to take a repository URL from).
  git clone --quiet --no-hardlinks "$PWD" "$work/clone" || fail "git clone failed"
  git -C "$work/clone" checkout --quiet "$(git rev-parse HEAD)" || fail "git checkout failed"
else
  mkdir "$work/clone" && tar --exclude=bin --exclude=obj --exclude=node_modules --exclude=nupkg -cf - . | tar -xf - -C "$work/clone" \
    || fail "copy failed"
fi
cd "$work/clone" || fail "no clone"

libraries=(Rlm.Tools Rlm.Tools.OpenAI Rlm.Tools.Hosting Rlm.Tools.Mcp)
for lib in "${libraries[@]}"; do
  dotnet pack "src/$lib" -c Release -o nupkg -nologo -warnaserror || fail "dotnet pack src/$lib failed"
done
ls -l nupkg

for lib in "${libraries[@]}"; do
  [ -f "nupkg/$lib.1.0.0.nupkg" ] || fail "no nupkg/$lib.1.0.0.nupkg"
  [ -f "nupkg/$lib.1.0.0.snupkg" ] || fail "no symbols package nupkg/$lib.1.0.0.snupkg"
  if command -v unzip >/dev/null 2>&1; then
    nuspec=$(unzip -p "nupkg/$lib.1.0.0.nupkg" "$lib.nuspec") || fail "no nuspec in $lib.1.0.0.nupkg"
    for want in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<description>' \
                '<repository type="git" url="https://github.com/rlm-tools/Rlm.Tools"'; do
      case "$nuspec" in *"$want"*) ;; *) fail "$lib.nuspec lacks $want" ;; esac
    done
    files=$(unzip -Z1 "nupkg/$lib.1.0.0.nupkg") || fail "cannot list $lib.1.0.0.nupkg"
    case $'\n'"$files"$'\n' in *$'\n'README.md$'\n'*) ;; *) fail "$lib.1.0.0.nupkg lacks README.md" ;; esac
  fi
done

# A package cache of its own: a Rlm.Tools 1.0.0 cached by an earlier run must not stand in for this build.
NUGET_PACKAGES="$work/nuget-packages" dotnet run --project samples/Consumer -c Release \
  || fail "samples/Consumer (restored from ./nupkg) failed"
[ -d "$work/nuget-packages/rlm.tools/1.0.0" ] || fail "Rlm.Tools was not restored from ./nupkg"
