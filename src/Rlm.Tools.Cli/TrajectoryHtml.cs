using System.Net;
using System.Text;

namespace Rlm.Tools.Cli;

/// <summary>
/// Renders a trajectory as one self-contained HTML page: inline CSS and JavaScript, the data embedded as JSON in a
/// <c>script type="application/json"</c> element, and no external URL of any kind.
/// </summary>
internal static class TrajectoryHtml
{
    public static string Render(RlmTrajectory trajectory, string title)
    {
        // Every line is a JSON object; the array of them is the data. '<' only occurs inside JSON strings, where \u003c
        // means the same, so no "</script>" or "<!--" can end or change the script element.
        var data = new StringBuilder("[");
        data.Append(trajectory.Run.GetRawText());
        foreach (var node in trajectory.Nodes)
        {
            data.Append(",\n").Append(node.Json.GetRawText());
        }

        data.Append(']');
        string json = data.ToString().Replace("<", "\\u003c", StringComparison.Ordinal);
        return Page
            .Replace("{{TITLE}}", WebUtility.HtmlEncode(title), StringComparison.Ordinal)
            .Replace("{{DATA}}", json, StringComparison.Ordinal);
    }

    /// <summary>
    /// The page's Content-Security-Policy: nothing may load or run but the page's own inline style and script, each
    /// allowed by the SHA-256 of its exact text (the JSON data element is not script and needs nothing). No network, no
    /// other inline script, no form, no base URL.
    /// </summary>
    internal static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; style-src '{Hash(Style)}'; script-src '{Hash(Script)}'; base-uri 'none'; form-action 'none'";

    // Line ends as an HTML parser sees them (it turns CRLF into LF before the hash is taken), whatever the source file has.
    private static readonly string Page = Template.ReplaceLineEndings("\n")
        .Replace("{{CSP}}", ContentSecurityPolicy, StringComparison.Ordinal)
        .Replace("{{STYLE}}", Style.ReplaceLineEndings("\n"), StringComparison.Ordinal)
        .Replace("{{SCRIPT}}", Script.ReplaceLineEndings("\n"), StringComparison.Ordinal);

    private static string Hash(string inline) =>
        "sha256-" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(inline.ReplaceLineEndings("\n"))));

    private const string Template = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rlm trajectory: {{TITLE}}</title>
<style>{{STYLE}}</style>
</head>
<body>
<ul id="errors"></ul>
<h1>rlm trajectory: {{TITLE}}</h1>
<div id="run"></div>
<h2>Citations</h2>
<div class="note">Each citation of the answer as the host checked it against the input; a mark in the answer links to its entry, which shows the cited line's text.</div>
<div id="citations-box"></div>
<h2>Concurrency</h2>
<div class="note">Model calls and leaf completions in flight over the run (a leaf counts from its start, including any wait for a free slot); the summary's peak concurrency is this chart's highest point.</div>
<div id="timeline-box"></div>
<h2>Call tree</h2>
<div class="note">Click a row for its details; ▾/▸ folds its children. Siblings that ran at the same time are framed as a parallel group.</div>
<ul class="tree" id="tree"></ul>
<script type="application/json" id="rlm-data">{{DATA}}</script>
<script>{{SCRIPT}}</script>
</body>
</html>
""";

    private const string Style = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1b1f24; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 18px 0 6px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px 20px; margin-bottom: 8px; }
.summary div b { font-weight: 600; }
.note { color: #57606a; font-size: 12px; }
table.usage { border-collapse: collapse; font-size: 13px; }
table.usage td, table.usage th { border: 1px solid #d0d7de; padding: 2px 8px; text-align: right; }
table.usage th:first-child, table.usage td:first-child { text-align: left; }
#timeline { border: 1px solid #d0d7de; background: #f6f8fa; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 18px; }
ul.tree { padding-left: 0; }
.row { display: flex; align-items: center; gap: 6px; padding: 1px 4px; cursor: pointer; border-radius: 4px; white-space: nowrap; }
.row:hover { background: #eef2f6; }
.node.open > .row { background: #ddf4ff; }
.toggle { width: 14px; display: inline-block; text-align: center; color: #57606a; }
.kind { font-size: 11px; padding: 0 5px; border-radius: 8px; color: #fff; }
.k-session { background: #8250df; } .k-model_call { background: #0969da; } .k-tool_call { background: #1a7f37; } .k-leaf { background: #bf8700; }
.label { font-family: ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis; max-width: 640px; }
.dur, .tok { color: #57606a; font-size: 12px; }
.err { color: #cf222e; font-weight: 600; }
.bar { position: relative; width: 160px; height: 8px; background: #eaeef2; border-radius: 2px; margin-left: auto; flex: none; }
.bar span { position: absolute; top: 0; height: 8px; background: #0969da; border-radius: 2px; min-width: 1px; }
.parallel { border-left: 3px solid #fb8500; margin: 2px 0; padding-left: 4px; }
.parallel > .ptitle { font-size: 11px; color: #bc4c00; }
.details { margin: 2px 0 6px 24px; padding: 6px 10px; border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; font-size: 13px; }
.details dt { font-weight: 600; } .details dd { margin: 0 0 4px 0; font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
.answer, .question { white-space: pre-wrap; word-break: break-word; }
.collapsed > ul, .collapsed > .parallels { display: none; }
a.cite { text-decoration: none; border-radius: 3px; padding: 0 2px; }
a.cite.verified { background: #dafbe1; color: #116329; border-bottom: 2px solid #1a7f37; }
a.cite.unverified { background: #ffebe9; color: #a40e26; border-bottom: 2px dashed #cf222e; }
a.cite.verified::after { content: " \2713"; font-size: 11px; } a.cite.unverified::after { content: " \2717"; font-size: 11px; }
ol.citations { margin: 4px 0; padding-left: 24px; }
.citation { margin: 4px 0; padding: 4px 8px; border-left: 4px solid #d0d7de; border-radius: 4px; }
.citation.verified { border-color: #1a7f37; background: #f6fef8; } .citation.unverified { border-color: #cf222e; background: #fff8f7; }
.citation .status { font-size: 11px; padding: 0 6px; border-radius: 8px; color: #fff; margin-right: 6px; }
.citation.verified .status { background: #1a7f37; } .citation.unverified .status { background: #cf222e; }
.citation .ctext { font-family: ui-monospace, monospace; }
.citation .reason { color: #a40e26; } .citation .where { font-family: ui-monospace, monospace; font-size: 12px; color: #57606a; }
pre.line-text { margin: 2px 0; padding: 4px 6px; background: #fff; border: 1px solid #d0d7de; border-radius: 4px; white-space: pre-wrap; word-break: break-word; }
.line-text .ln { color: #8c959f; display: inline-block; min-width: 4ch; text-align: right; margin-right: 8px; }
.citation:target, .citation.current, a.cite.current { outline: 2px solid #0969da; }
#errors:empty { display: none; }
#errors { color: #cf222e; }
""";

    private const string Script = """
(function () {
  "use strict";
  var errors = document.getElementById("errors");
  function report(text) { var li = document.createElement("li"); li.className = "error"; li.textContent = text; errors.appendChild(li); }
  window.addEventListener("error", function (e) { report("error: " + e.message); });
  window.addEventListener("unhandledrejection", function (e) { report("unhandled rejection: " + e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) { report("blocked by the page's policy: " + e.violatedDirective); });
  // The style is checked here: a style refused by the policy is refused before this script runs.
  if (getComputedStyle(document.body).marginTop !== "16px") { report("the page's style did not apply"); }
  var consoleError = console.error;
  console.error = function () { report("console.error: " + Array.prototype.join.call(arguments, " ")); consoleError.apply(console, arguments); };

  var lines = JSON.parse(document.getElementById("rlm-data").textContent);
  var run = lines[0];
  var nodes = lines.slice(1).filter(function (l) { return l.type === "node"; });
  // A Map, not an object: an id such as "__proto__" or "constructor" is an ordinary key, never a prototype's member.
  var byId = new Map();
  nodes.forEach(function (n) { n.children = []; byId.set(String(n.id), n); });
  var roots = [];
  nodes.forEach(function (n) { var p = n.parent_id != null ? byId.get(String(n.parent_id)) : undefined; if (p && p !== n) { p.children.push(n); } else { roots.push(n); } });
  var endMs = 0;
  nodes.forEach(function (n) { endMs = Math.max(endMs, n.started_ms + n.duration_ms); });
  if (run.statistics && run.statistics.wall_time_ms > endMs) { endMs = run.statistics.wall_time_ms; }
  if (endMs <= 0) { endMs = 1; }

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text != null) { e.textContent = text; } return e; }
  function ms(v) { return v >= 1000 ? (v / 1000).toFixed(2) + " s" : v.toFixed(1) + " ms"; }
  function tokens(u) { return u ? (u.total_tokens != null ? u.total_tokens : (u.input_tokens || 0) + (u.output_tokens || 0)) : null; }

  // Requests in flight over time, the one definition of concurrency on this page: the chart draws its steps and the
  // summary shows its peak (the engine's own count, requests holding a slot, can be lower: a node's span includes the
  // wait for a slot and the work around the request).
  var inFlight = (function () {
    var ev = [];
    nodes.forEach(function (n) { if (n.kind === "model_call" || n.kind === "leaf") { ev.push([n.started_ms, 1]); ev.push([n.started_ms + n.duration_ms, -1]); } });
    ev.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; });
    var level = 0, peak = 0, points = [[0, 0]];
    ev.forEach(function (e) { points.push([e[0], level]); level += e[1]; points.push([e[0], level]); peak = Math.max(peak, level); });
    return { points: points, peak: peak };
  })();

  // Run summary.
  var runBox = document.getElementById("run");
  var sum = el("div", "summary");
  function item(name, value) { var d = el("div"); d.appendChild(el("b", null, name + ": ")); d.appendChild(document.createTextNode(String(value))); sum.appendChild(d); }
  var st = run.statistics || {};
  item("stop reason", run.stop_reason);
  item("wall time", ms(st.wall_time_ms || endMs));
  item("nodes", nodes.length);
  item("model calls", st.model_calls);
  item("sub-calls", st.sub_calls + (st.failed_sub_calls ? " (" + st.failed_sub_calls + " failed)" : ""));
  item("peak concurrency", inFlight.peak);
  sum.lastChild.id = "peak-concurrency";
  sum.lastChild.title = "Most model calls and leaf completions in flight at once, as the Concurrency chart draws them" +
    (st.peak_concurrency != null ? " (requests holding a slot at once, as rlm -v counts them: " + st.peak_concurrency + ")" : "");
  item("max depth", st.max_depth_reached);
  item("tokens", tokens(run.usage));
  if (run.cost_usd != null) { item("cost", "$" + run.cost_usd); }
  runBox.appendChild(sum);
  if (run.question != null) { var q = el("div", "question"); q.id = "question"; q.appendChild(el("b", null, "question: ")); q.appendChild(document.createTextNode(run.question)); runBox.appendChild(q); }
  var cites = Array.isArray(run.citations) ? run.citations : null, marked = new Set();
  if (run.answer != null) { var a = el("div", "answer"); a.id = "answer"; a.appendChild(el("b", null, "answer: ")); appendMarked(a, String(run.answer)); runBox.appendChild(a); }
  if (!run.sensitive) { runBox.appendChild(el("div", "note", "Written without sensitive data: no question, answer, result excerpts or tool arguments (rlm --trajectory-sensitive records them).")); }
  var models = Object.keys(run.usage_by_model || {});
  if (models.length) {
    var t = el("table", "usage"); var hr = el("tr");
    ["model", "input tokens", "output tokens", "total tokens"].forEach(function (h) { hr.appendChild(el("th", null, h)); });
    t.appendChild(hr);
    models.forEach(function (m) { var u = run.usage_by_model[m]; var r = el("tr"); [m, u.input_tokens, u.output_tokens, tokens(u)].forEach(function (v) { r.appendChild(el("td", null, String(v))); }); t.appendChild(r); });
    runBox.appendChild(t);
  }

  // The answer's text with each citation marked where it stands (only where the recorded offset and text agree),
  // verified or not, the reason as its title, and a link to its entry in the citations list.
  function appendMarked(box, text) {
    var at = 0;
    (cites || []).forEach(function (c, i) {
      var start = c.answer_offset, end = start + String(c.text).length;
      if (typeof start !== "number" || start < at || text.slice(start, end) !== c.text) { return; }
      box.appendChild(document.createTextNode(text.slice(at, start)));
      var m = el("a", "cite " + (c.verified ? "verified" : "unverified"), c.text);
      m.id = "cite-" + (i + 1); m.href = "#citation-" + (i + 1);
      m.title = c.verified ? "verified" + (c.source ? ": " + where(c.source) + " " + c.source.text : "") : "unverified: " + c.reason;
      box.appendChild(m); marked.add(i + 1); at = end;
    });
    box.appendChild(document.createTextNode(text.slice(at)));
  }
  function where(s) { return (s.document != null ? s.document + ":" : "line ") + s.line; }

  // The citations list: status, reason, and the cited line's text as the trajectory recorded it (no input is read here).
  (function () {
    var box = document.getElementById("citations-box");
    if (!run.sensitive) { box.appendChild(el("div", "note", "Not recorded: written without sensitive data (rlm --trajectory-sensitive records the citations and their lines' text).")); return; }
    if (!cites) { box.appendChild(el("div", "note", "Not recorded: no citations were checked (rlm --citations off, no final answer, or a trajectory from before the check).")); return; }
    if (!cites.length) { box.appendChild(el("div", "note", "The answer cites no line.")); return; }
    var ok = cites.filter(function (c) { return c.verified; }).length;
    box.appendChild(el("div", "summary-line", ok + " of " + cites.length + " verified")); box.lastChild.id = "citations-summary";
    var list = el("ol", "citations"); list.id = "citations";
    cites.forEach(function (c, i) {
      var li = el("li", "citation " + (c.verified ? "verified" : "unverified")); li.id = "citation-" + (i + 1);
      var head = el("div"); head.appendChild(el("span", "status", c.verified ? "verified" : "unverified"));
      var label = c.text + (c.quote != null ? " \u201c" + c.quote + "\u201d" : "");
      if (marked.has(i + 1)) { var back = el("a", "ctext", label); back.href = "#cite-" + (i + 1); back.title = "where the answer cites it"; head.appendChild(back); }
      else { head.appendChild(el("span", "ctext", label)); }
      li.appendChild(head);
      if (c.reason != null) { li.appendChild(el("div", "reason", c.reason)); }
      if (c.source) {
        li.appendChild(el("div", "where", where(c.source) + (c.source.truncated ? " (shortened: the cited span is longer)" : "")));
        var pre = el("pre", "line-text");
        String(c.source.text).split("\n").forEach(function (t, k) {
          if (k) { pre.appendChild(document.createTextNode("\n")); }
          pre.appendChild(el("span", "ln", String(c.source.line + k))); pre.appendChild(document.createTextNode(t));
        });
        li.appendChild(pre);
      } else {
        li.appendChild(el("div", "note missing", c.verified
          ? "The line's text is not in this trajectory (written by an rlm that did not record it)."
          : "No line's text to show: the citation points to no line of the input (see the reason)."));
      }
      list.appendChild(li);
    });
    box.appendChild(list);
  })();

  // Concurrency timeline: a step chart of requests in flight.
  (function () {
    var W = 1000, H = 120, P = 24;
    var pts = inFlight.points, level = 0;
    pts.push([endMs, level]);
    var ymax = Math.max(inFlight.peak, 1);
    function x(v) { return P + (W - 2 * P) * v / endMs; }
    function y(v) { return H - P + 4 - (H - P - 8) * v / ymax; }
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("id", "timeline"); svg.setAttribute("viewBox", "0 0 " + W + " " + H); svg.setAttribute("width", "100%"); svg.setAttribute("height", String(H));
    var d = "M" + pts.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); }).join(" L") + " L" + x(endMs).toFixed(1) + "," + y(0) + " Z";
    var path = document.createElementNS(ns, "path"); path.setAttribute("d", d); path.setAttribute("fill", "#0969da55"); path.setAttribute("stroke", "#0969da"); svg.appendChild(path);
    function text(tx, ty, s, anchor) { var e = document.createElementNS(ns, "text"); e.setAttribute("x", tx); e.setAttribute("y", ty); e.setAttribute("font-size", "11"); e.setAttribute("fill", "#57606a"); if (anchor) { e.setAttribute("text-anchor", anchor); } e.textContent = s; svg.appendChild(e); }
    text(2, y(ymax) + 4, String(ymax)); svg.lastChild.id = "timeline-peak"; text(2, y(0), "0");
    text(x(0), H - 2, "0"); text(x(endMs), H - 2, ms(endMs), "end");
    document.getElementById("timeline-box").appendChild(svg);
  })();

  // Parallel groups: siblings whose time ranges overlap, as runs of consecutive siblings sorted by start.
  function groups(children) {
    var sorted = children.slice().sort(function (a, b) { return a.started_ms - b.started_ms || a.id - b.id; });
    var out = [], cur = null, curEnd = -1;
    sorted.forEach(function (c) {
      var end = c.started_ms + c.duration_ms;
      if (cur && c.started_ms < curEnd) { cur.push(c); curEnd = Math.max(curEnd, end); }
      else { cur = [c]; out.push(cur); curEnd = end; }
    });
    return out;
  }

  function details(n) {
    var box = el("dl", "details"); box.id = "details-" + n.id; box.hidden = true;
    function row(name, value) { box.appendChild(el("dt", null, name)); box.appendChild(el("dd", null, value)); }
    row("node", "#" + n.id + " (" + n.kind + ", depth " + n.depth + (n.parent_id != null ? ", parent #" + n.parent_id : "") + ")");
    row("label / arguments", n.label);
    row("started", ms(n.started_ms) + " after the start; took " + ms(n.duration_ms));
    if (n.model != null) { row("model", n.model); }
    if (n.usage) { row("tokens", "input " + n.usage.input_tokens + (n.usage.cached_input_tokens ? " (" + n.usage.cached_input_tokens + " cached)" : "") + ", output " + n.usage.output_tokens + ", total " + tokens(n.usage)); }
    if (n.cost_usd != null) { row("cost", "$" + String(n.cost_usd)); }
    row("result", n.summary != null ? n.summary : (run.sensitive ? "(none)" : "(not recorded: written without sensitive data)"));
    if (n.is_error) { row("error", "yes"); }
    return box;
  }

  function renderNode(n) {
    var li = el("li", "node"); li.id = "node-" + n.id; li.setAttribute("data-id", n.id);
    var row = el("div", "row");
    var toggle = el("span", "toggle", n.children.length ? "▾" : "");
    row.appendChild(toggle);
    row.appendChild(el("span", "kind k-" + n.kind, String(n.kind).replace("_", " ")));
    var label = el("span", "label", n.label); label.title = n.label; row.appendChild(label);
    row.appendChild(el("span", "dur", ms(n.duration_ms)));
    if (n.usage) { row.appendChild(el("span", "tok", tokens(n.usage) + " tok")); }
    if (n.is_error) { row.appendChild(el("span", "err", "error")); }
    var bar = el("span", "bar"); var fill = el("span");
    fill.style.left = (100 * n.started_ms / endMs).toFixed(2) + "%"; fill.style.width = (100 * n.duration_ms / endMs).toFixed(2) + "%";
    bar.appendChild(fill); row.appendChild(bar);
    li.appendChild(row);
    var box = details(n); li.appendChild(box);
    toggle.addEventListener("click", function (e) { e.stopPropagation(); li.classList.toggle("collapsed"); toggle.textContent = li.classList.contains("collapsed") ? "▸" : "▾"; });
    row.addEventListener("click", function () { setOpen(n.id, box.hidden); });
    if (n.children.length) {
      var ul = el("ul");
      groups(n.children).forEach(function (g) {
        if (g.length > 1) {
          var wrap = el("li", "parallel"); wrap.appendChild(el("div", "ptitle", "parallel ×" + g.length));
          var inner = el("ul"); g.forEach(function (c) { inner.appendChild(renderNode(c)); }); wrap.appendChild(inner); ul.appendChild(wrap);
        } else { ul.appendChild(renderNode(g[0])); }
      });
      li.appendChild(ul);
    }
    return li;
  }

  function setOpen(id, open) {
    var li = document.getElementById("node-" + id), box = document.getElementById("details-" + id);
    if (!li || !box) { return false; }
    box.hidden = !open; li.classList.toggle("open", open);
    if (open) { for (var p = li.parentElement; p; p = p.parentElement) { if (p.classList && p.classList.contains("collapsed")) { p.classList.remove("collapsed"); } } }
    return true;
  }

  var tree = document.getElementById("tree");
  roots.forEach(function (r) { tree.appendChild(renderNode(r)); });

  function openFromHash() {
    var m = /(?:^#|&)open=(\d+)/.exec(location.hash);
    if (m && setOpen(Number(m[1]), true)) { document.getElementById("node-" + m[1]).scrollIntoView({ block: "center" }); }
  }
  // A citation link (#citation-N, #cite-N) also frames its target, as :target does, so it stands out after the jump.
  function markCurrent() {
    Array.prototype.forEach.call(document.querySelectorAll(".current"), function (e) { e.classList.remove("current"); });
    var m = /^#(cite|citation)-(\d+)$/.exec(location.hash), t = m && document.getElementById(m[1] + "-" + m[2]);
    if (t) { t.classList.add("current"); t.scrollIntoView({ block: "center" }); }
  }
  window.addEventListener("hashchange", openFromHash);
  window.addEventListener("hashchange", markCurrent);
  openFromHash();
  markCurrent();
  document.body.setAttribute("data-ready", "true");
})();
""";
}
