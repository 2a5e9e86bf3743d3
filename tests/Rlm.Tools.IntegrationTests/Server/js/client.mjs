// Calls `rlm serve` with the official OpenAI Node.js SDK: one plain completion and one streamed (with usage), and prints
// one JSON object with what came back. Usage: node client.mjs BASE_URL QUESTION [API_KEY]
import OpenAI from "openai";

const [baseURL, question, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: apiKey ?? "unused", maxRetries: 0, timeout: 120_000 });
const messages = [{ role: "user", content: question }];

const models = await client.models.list();
const plain = await client.chat.completions.create({ model: "rlm", messages });

const stream = await client.chat.completions.create({ model: "rlm", messages, stream: true, stream_options: { include_usage: true } });
let streamed = "";
let chunks = 0;
let finishReason = null;
let streamUsage = null;
let role = null;
for await (const chunk of stream) {
  chunks++;
  const choice = chunk.choices[0];
  if (choice?.delta?.role) role = choice.delta.role;
  if (choice?.delta?.content) streamed += choice.delta.content;
  if (choice?.finish_reason) finishReason = choice.finish_reason;
  if (chunk.usage) streamUsage = chunk.usage;
}

let notFound = null;
try {
  await client.chat.completions.create({ model: "no-such-model", messages });
} catch (e) {
  notFound = { status: e.status, code: e.code, type: e.type, message: e.message };
}

console.log(JSON.stringify({
  models: models.data.map((m) => m.id),
  plain: { object: plain.object, content: plain.choices[0].message.content, role: plain.choices[0].message.role, finish_reason: plain.choices[0].finish_reason, usage: plain.usage },
  stream: { content: streamed, chunks, role, finish_reason: finishReason, usage: streamUsage },
  not_found: notFound,
}));
