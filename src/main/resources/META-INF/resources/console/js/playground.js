// Playground: one model, or two side by side, streamed over the same /v1 API as any client.
import { get, stream } from './api.js';
import { $, fillSelect } from './dom.js';

let running = [];

function request(model) {
  const prompt = $('prompt').value;
  const body = {
    model,
    temperature: Number($('temperature').value),
    top_p: Number($('top-p').value),
    max_tokens: Number($('max-tokens').value),
  };
  if ($('lm-infinite').checked) {
    body.attention = { type: 'lm-infinite' };   // the model's defaults for n_global, n_local, max_distance
  }
  const chat = document.querySelector('input[name="mode"]:checked').value === 'chat';
  if (chat) {
    body.messages = [{ role: 'user', content: prompt }];
  } else {
    body.prompt = prompt;
  }
  return { path: chat ? '/v1/chat/completions' : '/v1/completions', body, chat };
}

/** Streams one model's answer into a <pre>, as text; data-state: streaming, done or error. */
async function run(model, out, signal) {
  const { path, body, chat } = request(model);
  out.textContent = '';
  out.classList.remove('error');
  out.dataset.state = 'streaming';
  let chunks = 0;   // how many pieces the text came in (a hook for tests: streamed, not sent whole)
  try {
    await stream(path, body, (chunk) => {
      const choice = chunk.choices && chunk.choices[0];
      const text = choice ? (chat ? choice.delta && choice.delta.content : choice.text) : null;
      if (text) {
        out.append(text);
        out.dataset.chunks = String(++chunks);
      }
    }, signal);
    out.dataset.state = 'done';
  } catch (e) {
    if (e.name === 'AbortError') {
      out.dataset.state = 'done';
      return;
    }
    out.classList.add('error');
    out.append((out.textContent ? '\n' : '') + e.message);
    out.dataset.state = 'error';
  }
}

async function send(e) {
  e.preventDefault();
  running.forEach((c) => c.abort());
  const compare = $('compare').checked;
  $('output').parentElement.hidden = compare;
  $('compare-outputs').hidden = !compare;
  const left = $('model').value;
  if (!compare) {
    const c = new AbortController();
    running = [c];
    await run(left, $('output'), c.signal);
    return;
  }
  const right = $('model-right').value;
  $('cmp-left-title').textContent = left;
  $('cmp-right-title').textContent = right;
  const controllers = [new AbortController(), new AbortController()];
  running = controllers;
  // both requests open at once, each stream filling its own column as it arrives
  await Promise.all([run(left, $('compare-left'), controllers[0].signal), run(right, $('compare-right'), controllers[1].signal)]);
}

export default {
  wire() {
    $('play-form').addEventListener('submit', send);
    $('compare').addEventListener('change', () => {
      $('model-right').disabled = !$('compare').checked;
    });
  },
  async show(ctx) {
    const ids = (await get('/v1/models')).data.map((m) => m.id).sort();
    // each adapter also as name@N for its versions, to try one before activating it
    const versions = ctx.admin ? [] : await adapterVersions();
    const all = [...ids, ...versions.filter((v) => !ids.includes(v))];
    fillSelect($('model'), all);
    fillSelect($('model-right'), all);
  },
};

/** name@N ids of the tenant's adapter versions (the admin key has no adapters of its own). */
async function adapterVersions() {
  const list = (await get('/v1/admin/adapters')).data;
  return list.flatMap((a) => (a.versions || []).map((v) => a.name + '@' + v.version));
}
