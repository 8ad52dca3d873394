// Tenants and their keys (admin): create (key shown once), list, delete; issue and revoke keys.
import { call, get } from './api.js';
import { $, confirmDialog, el, showError, when } from './dom.js';

let ctx;
let selected = null;

const tenantPath = (name) => '/v1/admin/tenants/' + encodeURIComponent(name);

function showIssued(issued) {
  $('issued-tenant').textContent = issued.tenant;
  $('issued-key').textContent = issued.api_key;
  $('issued').hidden = false;
  $('issued-copy').focus();
}

function closeIssued() {
  $('issued').hidden = true;
  $('issued-key').textContent = '';
  $('issued-copy').textContent = 'Copy';
}

async function act(fn) {
  showError($('tenants-error'), null);
  try {
    await fn();
  } catch (e) {
    showError($('tenants-error'), e);
  }
}

async function showKeys(name) {
  selected = name;
  $('keys').hidden = false;
  $('keys-title').textContent = 'Keys of ' + name;
  const keys = (await get(tenantPath(name) + '/keys')).data;
  $('keys-body').replaceChildren(...keys.map((k) => el('tr', { dataset: { testid: 'key-row', keyId: String(k.id) } },
    el('td', { className: 'num' }, k.id),
    el('td', {}, el('code', {}, k.prefix)),
    el('td', {}, when(k.created_at)),
    el('td', {}, k.revoked_at ? when(k.revoked_at) : 'no'),
    el('td', {}, k.revoked_at ? '' : el('button', { type: 'button', className: 'danger', dataset: { testid: 'key-revoke' },
      onclick: () => act(async () => {
        if (await confirmDialog('Revoke key ' + k.prefix + '… of ' + name + '? Calls with it are refused at once.')) {
          await call('DELETE', tenantPath(name) + '/keys/' + k.id);
          if ($('issued-key').textContent.startsWith(k.prefix)) {
            closeIssued();   // no use showing a key that is refused now
          }
          await showKeys(name);
        }
      }) }, 'Revoke')))));
}

async function refresh() {
  const list = (await get('/v1/admin/tenants')).data;
  $('tenants-body').replaceChildren(...list.map((t) => el('tr', { dataset: { testid: 'tenant-row', name: t.name } },
    el('th', { scope: 'row' }, t.name),
    el('td', { className: 'num' }, t.requests_per_minute ?? '–'),
    el('td', { className: 'num' }, t.tokens_per_minute ?? '–'),
    el('td', {}, when(t.created_at)),
    el('td', { className: 'actions' },
      el('button', { type: 'button', dataset: { testid: 'tenant-keys' }, onclick: () => act(() => showKeys(t.name)) }, 'Keys'),
      el('button', { type: 'button', className: 'danger', dataset: { testid: 'tenant-delete' },
        onclick: () => act(async () => {
          if (await confirmDialog('Delete tenant ' + t.name + ' with its keys and adapters?')) {
            await call('DELETE', tenantPath(t.name));
            if (selected === t.name) {
              selected = null;
              $('keys').hidden = true;
            }
            await refresh();
            await ctx.refreshTenants();
          }
        }) }, 'Delete')))));
}

function wire() {
  $('tenant-form').addEventListener('submit', (e) => {
    e.preventDefault();
    act(async () => {
      const issued = await call('POST', '/v1/admin/tenants', { name: $('tenant-name').value.trim() });
      $('tenant-name').value = '';
      showIssued(issued);
      await refresh();
      await ctx.refreshTenants();
    });
  });
  $('key-issue').addEventListener('click', () => act(async () => {
    showIssued(await call('POST', tenantPath(selected) + '/keys'));
    await showKeys(selected);
  }));
  $('issued-copy').addEventListener('click', () => act(async () => {
    await navigator.clipboard.writeText($('issued-key').textContent);
    $('issued-copy').textContent = 'Copied';
  }));
  $('issued-close').addEventListener('click', closeIssued);
}

export default {
  wire,
  show(c) {
    ctx = c;
    act(refresh);
  },
};
