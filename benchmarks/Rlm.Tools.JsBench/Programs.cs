namespace Rlm.Tools.JsBench;

/// <summary>
/// One typical model program: <see cref="Js"/> as a model writes it (run unchanged in the sandbox and in Node),
/// <see cref="Python"/> the same algorithm in CPython (a function of <c>text</c>), and optionally <see cref="Helper"/>,
/// the same question answered with the sandbox's native helpers. Every version returns the same JSON text, so the run
/// checks that all of them agree. Each script is a block so its <c>const</c>s do not outlive one run.
/// </summary>
internal sealed record BenchProgram(string Id, string Name, string Js, string Python, string? Helper);

internal static class Programs
{
    public static readonly IReadOnlyList<BenchProgram> All =
    [
        new(
            "lines",
            "line split + regex count",
            """
            {
              const lines = context.split('\n');
              const hits = lines.filter(l => /error|fail/i.test(l));
              JSON.stringify({ lines: lines.length, hits: hits.length })
            }
            """,
            """
            def lines(text):
                rx = re.compile(r'error|fail', re.I)
                lines = text.split('\n')
                hits = [l for l in lines if rx.search(l)]
                return json.dumps({'lines': len(lines), 'hits': len(hits)}, separators=(',', ':'))
            """,
            """
            {
              JSON.stringify({ lines: count_lines(context), hits: count_lines(context, /error|fail/i) })
            }
            """),
        new(
            "words",
            "word frequency top 10",
            """
            {
              const counts = new Map();
              for (const w of context.toLowerCase().match(/\w+/g) ?? []) {
                counts.set(w, (counts.get(w) ?? 0) + 1);
              }
              const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, 10);
              JSON.stringify(top)
            }
            """,
            """
            def words(text):
                counts = {}
                for w in re.findall(r'\w+', text.lower(), re.ASCII):
                    counts[w] = counts.get(w, 0) + 1
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
                return json.dumps([[k, v] for k, v in top], separators=(',', ':'))
            """,
            """
            {
              JSON.stringify(count_by(context, /\w+/g, { lowercase: true, top: 10 }))
            }
            """),
        new(
            "groupby",
            "group-by counts (changelog headers by urgency, top 10 dists)",
            """
            {
              const byUrgency = {};
              const byDist = {};
              for (const line of context.split('\n')) {
                const m = line.match(/^(\S+) \(([^)]+)\) ([^;]+); urgency=(\w+)/);
                if (!m) continue;
                const [, pkg, version, dist, urgency] = m;
                const u = urgency.toLowerCase();
                byUrgency[u] = (byUrgency[u] || 0) + 1;
                byDist[dist] = (byDist[dist] || 0) + 1;
              }
              const sorted = o => Object.entries(o).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
              JSON.stringify({ urgency: sorted(byUrgency), dist: sorted(byDist).slice(0, 10) })
            }
            """,
            """
            def groupby(text):
                rx = re.compile(r'^(\S+) \(([^)]+)\) ([^;]+); urgency=(\w+)', re.ASCII)
                by_urgency = {}
                by_dist = {}
                for line in text.split('\n'):
                    m = rx.match(line)
                    if not m:
                        continue
                    pkg, version, dist, urgency = m.groups()
                    u = urgency.lower()
                    by_urgency[u] = by_urgency.get(u, 0) + 1
                    by_dist[dist] = by_dist.get(dist, 0) + 1
                srt = lambda o: [[k, v] for k, v in sorted(o.items(), key=lambda kv: (-kv[1], kv[0]))]
                return json.dumps({'urgency': srt(by_urgency), 'dist': srt(by_dist)[:10]}, separators=(',', ':'))
            """,
            """
            {
              const header = /^(\S+) \(([^)]+)\) ([^;]+); urgency=(\w+)/;
              JSON.stringify({
                urgency: count_by(context, header, { group: 4, lowercase: true }),
                dist: count_by(context, header, { group: 3, top: 10 }),
              })
            }
            """),
    ];
}
