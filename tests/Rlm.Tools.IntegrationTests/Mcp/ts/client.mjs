// End-to-end client for `rlm mcp`, on the official TypeScript MCP SDK.
// Usage: node client.mjs <question> <command> [args...]
// Spawns `<command> [args...]` as an MCP server over stdio, lists its tools, calls list_documents, then calls query with
// <question> and a progress token, and prints one JSON object on stdout:
//   { server, tools: [{ name, description, inputSchema }], documents, query: { isError, text }, progress: [messages] }
// Exits 1 with a message on stderr on any protocol failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [question, command, ...args] = process.argv.slice(2);
if (!question || !command) {
  console.error("usage: node client.mjs <question> <command> [args...]");
  process.exit(2);
}

const transport = new StdioClientTransport({
  command,
  args,
  env: { ...process.env },
  stderr: "pipe",
});
let serverStderr = "";
transport.stderr?.on("data", (chunk) => { serverStderr += chunk.toString(); });

const client = new Client({ name: "rlm-ts-test-client", version: "1.0.0" });
try {
  await client.connect(transport);
  const server = client.getServerVersion();
  const { tools } = await client.listTools();
  const listing = await client.callTool({ name: "list_documents", arguments: {} });
  const progress = [];
  const answer = await client.callTool(
    { name: "query", arguments: { question } },
    undefined,
    { onprogress: (p) => progress.push({ progress: p.progress, message: p.message }), timeout: 120000 },
  );
  const text = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
  console.log(JSON.stringify({
    server,
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
    documents: text(listing),
    query: { isError: answer.isError === true, text: text(answer) },
    progress,
    stderr: serverStderr,
  }));
  await client.close();
} catch (e) {
  console.error(`client failed: ${e?.stack ?? e}\n--- server stderr ---\n${serverStderr}`);
  try { await client.close(); } catch { }
  process.exit(1);
}
