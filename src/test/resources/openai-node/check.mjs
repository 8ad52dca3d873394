// Exercises Tessera with the official openai client, unchanged: models (list, retrieve), chat (plain and streamed),
// completions, the request id the client reports, and structured output and a tool call through chat.completions.parse.
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

// structured output: parse() hands back the content parsed; a strict tool's call comes back with parsed arguments
const weather = {
  type: 'object', additionalProperties: false, required: ['city', 'rain'],
  properties: { city: { type: 'string', maxLength: 12 }, rain: { type: 'boolean' } },
};
const parsed = await client.chat.completions.parse({
  model: 'demo-llama', messages, max_tokens: 60, temperature: 1, seed: 5,
  response_format: { type: 'json_schema', json_schema: { name: 'weather', strict: true, schema: weather } },
});
const toolCall = await client.chat.completions.parse({
  model: 'demo-llama', messages, max_tokens: 60, temperature: 1, seed: 5, tool_choice: 'required',
  tools: [{ type: 'function', function: { name: 'get_weather', strict: true, parameters: weather } }],
});
const call = toolCall.choices[0].message.tool_calls?.[0];

console.log(JSON.stringify({
  parsed: { value: parsed.choices[0].message.parsed, finish: parsed.choices[0].finish_reason },
  toolCall: {
    name: call?.function.name ?? null, arguments: call?.function.parsed_arguments ?? null,
    finish: toolCall.choices[0].finish_reason,
  },
  models,
  retrieved: { id: retrieved.id, maxModelLen: retrieved.max_model_len ?? null },
  chat: { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage },
  stream: { content: streamed, finish: streamFinish, usage: streamUsage },
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason, usage: completion.usage },
  notFound,
}));
