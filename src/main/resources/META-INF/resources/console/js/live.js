// Live figures from /v1/admin/live, polled every few seconds while the view is open.
import { get } from './api.js';
import { $, bytes, showError } from './dom.js';

const PERIOD_MS = 3000;
let timer = null;

async function poll() {
  try {
    const s = await get('/v1/admin/live');
    $('live-tps').textContent = Number(s.tokens_per_second ?? 0).toFixed(1);
    $('live-queue').textContent = s.queue_depth ?? '–';
    $('live-running').textContent = s.running ?? '–';
    $('live-adapters').textContent = s.resident_adapters ?? '–';
    $('live-bytes').textContent = bytes(s.resident_adapter_bytes)
      + (s.adapter_budget_bytes ? ' of ' + bytes(s.adapter_budget_bytes) : '');
    $('live-updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    showError($('live-error'), null);
  } catch (e) {
    showError($('live-error'), e);
  }
}

export default {
  show() {
    poll();
    timer = setInterval(poll, PERIOD_MS);
  },
  hide() {
    clearInterval(timer);
    timer = null;
  },
};
