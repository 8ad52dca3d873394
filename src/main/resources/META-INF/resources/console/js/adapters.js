// Adapters of one tenant: table, upload with progress, activate a version, pin/unpin (admin), delete.
import { call, get, query, upload } from './api.js';
import { $, bytes, confirmDialog, el, showError } from './dom.js';

let ctx;

function tenantParam() {
  return ctx.admin ? $('adapters-tenant').value : undefined;
}

function path(name, action) {
  return '/v1/admin/adapters/' + encodeURIComponent(name) + (action ? '/' + action : '') + query({ tenant: tenantParam() });
}

function rankOrTokens(a) {
  const parts = [];
  if (a.rank !== undefined && a.rank !== null) {
    parts.push('r ' + a.rank);
  }
  if (a.virtual_tokens !== undefined && a.virtual_tokens !== null) {
    parts.push(a.virtual_tokens + ' tokens');
  }
  return parts.length ? parts.join(', ') : '–';
}

async function act(promise) {
  showError($('adapters-error'), null);
  try {
    await promise;
  } catch (e) {
    showError($('adapters-error'), e);
  }
  await refresh();
}

function versionPicker(a, list) {
  const select = el('select', { ariaLabel: 'Version of ' + a.name, dataset: { testid: 'version-select' } },
    ...list.map((v) => el('option', { value: String(v.version), selected: v.active },
      'v' + v.version + (v.active ? ' (active)' : '') + ' · ' + bytes(v.size_bytes))));
  const activate = el('button', { type: 'button', dataset: { testid: 'activate' },
    onclick: () => act(call('POST', path(a.name, 'activate'), { version: Number(select.value) })) }, 'Activate');
  return el('span', { className: 'versions' }, select, activate);
}

function row(a, list) {
  const actions = el('td', { className: 'actions' });
  if (ctx.admin) {
    actions.append(el('button', { type: 'button', dataset: { testid: a.pinned ? 'unpin' : 'pin' },
      onclick: () => act(call('POST', path(a.name, a.pinned ? 'unpin' : 'pin'))) }, a.pinned ? 'Unpin' : 'Pin'));
  }
  actions.append(el('button', { type: 'button', className: 'danger', dataset: { testid: 'delete' },
    onclick: async () => {
      if (await confirmDialog('Delete adapter ' + a.name + ' with all its versions?')) {
        await act(call('DELETE', path(a.name)));
      }
    } }, 'Delete'));
  const active = a.active_version === undefined || a.active_version === null ? 'none' : 'v' + a.active_version;
  return el('tr', { dataset: { testid: 'adapter-row', name: a.name, activeVersion: a.active_version ?? '' } },
    el('th', { scope: 'row' }, a.name),
    el('td', { dataset: { label: 'Kind' } }, a.kind ?? '–'),
    el('td', { dataset: { label: 'Rank / tokens' } }, rankOrTokens(a)),
    el('td', { dataset: { label: 'Active', testid: 'active-version' } }, active),
    el('td', { className: 'num', dataset: { label: 'Size' } }, bytes(a.size_bytes)),
    el('td', { dataset: { label: 'Tier' } }, a.tier ?? '–'),
    el('td', { dataset: { label: 'Pinned' } }, a.pinned ? 'yes' : 'no'),
    el('td', { dataset: { label: 'Versions' } }, versionPicker(a, list)),
    actions);
}

async function refresh() {
  const body = $('adapters-body');
  if (ctx.admin && !tenantParam()) {
    body.replaceChildren();
    return;
  }
  try {
    const list = (await get('/v1/admin/adapters' + query({ tenant: tenantParam() }))).data;
    list.sort((x, y) => x.name.localeCompare(y.name));
    body.replaceChildren(...list.map((a) => row(a, a.versions || [])));
  } catch (e) {
    showError($('adapters-error'), e);
  }
}

async function send(file) {
  const form = new FormData();
  const name = $('upload-name').value.trim();
  if (name) {
    form.append('name', name);
  }
  form.append('activate', $('upload-activate').checked ? 'true' : 'false');
  if (ctx.admin) {
    form.append('tenant', tenantParam());
  }
  form.append('file', file, file.name);
  const progress = $('upload-progress');
  const status = $('upload-status');
  progress.hidden = false;
  progress.value = 0;
  progress.dataset.state = 'sending';
  status.classList.remove('error');
  status.textContent = 'Uploading ' + file.name + '…';
  try {
    const stored = await upload('/v1/admin/adapters', form, (loaded, total) => {
      progress.value = Math.round((100 * loaded) / total);
    });
    progress.value = 100;
    progress.dataset.state = 'done';
    status.textContent = 'Stored ' + stored.name + ' v' + stored.uploaded.version + '.';
  } catch (e) {
    progress.dataset.state = 'failed';
    status.classList.add('error');
    status.textContent = e.message;
  }
  $('upload-file').value = '';
  await refresh();
}

function wire() {
  $('upload-file').addEventListener('change', (e) => {
    if (e.target.files.length) {
      send(e.target.files[0]);
    }
  });
  const zone = $('upload-form');
  zone.addEventListener('submit', (e) => e.preventDefault());
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files.length) {
      send(e.dataTransfer.files[0]);
    }
  });
  $('adapters-tenant').addEventListener('change', refresh);
}

export default {
  wire,
  show(c) {
    ctx = c;
    showError($('adapters-error'), null);
    refresh();
  },
};
