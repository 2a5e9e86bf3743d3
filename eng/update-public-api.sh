#!/usr/bin/env bash
# Regenerates the public API files (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt, read by
# Microsoft.CodeAnalysis.PublicApiAnalyzers) of the four libraries from their current surface.
#
#   eng/update-public-api.sh            after a change to the surface: a new public API (RS0016) is added to
#                                       PublicAPI.Unshipped.txt; a removed one (RS0017) leaves PublicAPI.Unshipped.txt,
#                                       or, when it had shipped, is marked there as *REMOVED*.
#   eng/update-public-api.sh --ship     at a release: the same, then PublicAPI.Unshipped.txt is moved into
#                                       PublicAPI.Shipped.txt (*REMOVED* lines take theirs out of it).
#   eng/update-public-api.sh [--ship] src/Rlm.Tools.Mcp ...   only these projects (their references are built too).
#
# It builds the projects with the RS diagnostics as warnings and takes the API lines from RS0016/RS0017's messages
# (the same text the analyzer's code fix writes, nullable annotations included), then builds again with the normal
# settings to check that none is left. Re-runnable: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
projects=()
for arg in "$@"; do
  case "$arg" in
    --ship) ship=true ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) projects+=("${arg%/}") ;;
  esac
done
# Rlm.Tools first: the others reference it.
[ ${#projects[@]} -gt 0 ] || projects=(src/Rlm.Tools src/Rlm.Tools.OpenAI src/Rlm.Tools.Hosting src/Rlm.Tools.Mcp)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
header='#nullable enable'

# The API lines of a file, without its header, blank lines or comments.
body() { [ -f "$1" ] && grep -vE '^(#nullable enable|\s*$|//)' "$1" || true; }
# Writes header + the sorted, distinct lines of stdin to $1 (ordinal order, as the analyzer's code fix sorts).
write_api() { { echo "$header"; LC_ALL=C sort -u; } > "$1.tmp"; mv "$1.tmp" "$1"; }

# Builds one project (fresh compile, so the analyzer runs) with RS0016/RS0017 as warnings; prints the build log.
analyze() {
  local proj=$1
  # Touching the files makes the compiler run again even when nothing else changed.
  touch "$proj/PublicAPI.Shipped.txt" "$proj/PublicAPI.Unshipped.txt"
  dotnet build "$proj" -nologo -v:q -clp:NoSummary -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= 2>&1 || true
}

# The API strings of one diagnostic id in a build log, one a line.
symbols() { # $1 = log, $2 = RS0016|RS0017, $3 = project file name (a reference's diagnostics are not ours)
  { grep -E "(warning|error) $2: Symbol '" "$1" || true; } | { grep -F "/$3]" || true; } \
    | sed -E "s/.* $2: Symbol '(.*)' is (not part of the declared public API|part of the declared API, but is either not public or could not be found).*/\1/" \
    | LC_ALL=C sort -u
}

for proj in "${projects[@]}"; do
  [ -f "$proj/$(basename "$proj").csproj" ] || { echo "update-public-api: no project in $proj" >&2; exit 2; }
  shipped="$proj/PublicAPI.Shipped.txt"
  unshipped="$proj/PublicAPI.Unshipped.txt"
  [ -f "$shipped" ] || echo "$header" > "$shipped"
  [ -f "$unshipped" ] || echo "$header" > "$unshipped"

  analyze "$proj" > "$work/log"
  if grep -qE ': error ' "$work/log"; then
    cat "$work/log" >&2
    echo "update-public-api: $proj does not build" >&2
    exit 1
  fi
  symbols "$work/log" RS0016 "$(basename "$proj").csproj" > "$work/added"
  symbols "$work/log" RS0017 "$(basename "$proj").csproj" > "$work/removed"

  body "$shipped" | LC_ALL=C sort -u > "$work/shipped"
  body "$unshipped" | LC_ALL=C sort -u > "$work/unshipped"
  # Unshipped: what it had, less what is gone, plus what is new; a shipped API that is gone is marked *REMOVED*.
  LC_ALL=C comm -12 "$work/removed" "$work/shipped" | sed 's/^/*REMOVED*/' > "$work/marks"
  { LC_ALL=C comm -23 "$work/unshipped" "$work/removed"; cat "$work/added" "$work/marks"; } | write_api "$unshipped"
  echo "$proj: $(wc -l < "$work/added") added, $(wc -l < "$work/removed") removed"

  if $ship; then
    body "$unshipped" | grep '^\*REMOVED\*' | sed 's/^\*REMOVED\*//' | LC_ALL=C sort -u > "$work/gone" || true
    { body "$shipped" | grep -vxFf "$work/gone" || true; body "$unshipped" | grep -v '^\*REMOVED\*' || true; } | write_api "$shipped"
    echo "$header" > "$unshipped"
    echo "$proj: shipped ($(body "$shipped" | wc -l) lines)"
  fi
done

# Check: the normal build (RS0016/RS0017 are errors) finds every surface declared.
for proj in "${projects[@]}"; do
  touch "$proj/PublicAPI.Shipped.txt"
  if ! dotnet build "$proj" -nologo -v:q -clp:NoSummary > "$work/log" 2>&1; then
    grep -E 'error' "$work/log" >&2 || cat "$work/log" >&2
    echo "update-public-api: $proj still fails to build after the update" >&2
    exit 1
  fi
done
echo "update-public-api: done; review and commit the PublicAPI.*.txt changes"
