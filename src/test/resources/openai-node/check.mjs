// Exercises Tessera with the official openai client, unchanged: models (list, retrieve), chat (plain and streamed),
// completions, and the request id the client reports.
// Prints one JSON line with what it saw; the JUnit test asserts on it.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.TESSERA_BASE_URL, apiKey: process.env.TESSERA_API_KEY, maxRetries: 0 });
const messages = [{ role: 'user', content: 'Hello' }];

const models = [];
for await (const m of client.models.list()) {
  models.push({ id: m.id, parent: m.parent ?? null });
}

const retrieved = await client.models.retrieve('research-lora');

const chat = await client.chat.completions.create({ model: 'demo-llama', messages, max_tokens: 12, temperature: 0 });

const stream = await client.chat.completions.create({
  model: 'demo-llama', messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let streamFinish = null;
let streamUsage = null;
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].delta.content ?? '';
    streamFinish = chunk.choices[0].finish_reason ?? streamFinish;
  }
  streamUsage = chunk.usage ?? streamUsage;
}

const completion = await client.completions.create({
  model: 'demo-llama', prompt: 'Returns the number of elements in this', max_tokens: 32, temperature: 0,
});

let notFound = null;
try {
  await client.completions.create({ model: 'no-such-model', prompt: 'x' });
} catch (e) {
  notFound = { status: e.status, code: e.code ?? null, requestId: e.requestID ?? null };
}

console.log(JSON.stringify({
  models,
  retrieved: { id: retrieved.id, maxModelLen: retrieved.max_model_len ?? null },
  chat: { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage },
  stream: { content: streamed, finish: streamFinish, usage: streamUsage },
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason, usage: completion.usage },
  notFound,
}));
