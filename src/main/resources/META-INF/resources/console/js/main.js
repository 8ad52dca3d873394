// Login, role and navigation; each view is a module with show(ctx), and wire() (its listeners, attached once) and
// hide() (where it polls) when it has them.
import { ApiError, get, session } from './api.js';
import { $, fillSelect, showError } from './dom.js';
import adapters from './adapters.js';
import tenants from './tenants.js';
import usage from './usage.js';
import live from './live.js';
import playground from './playground.js';

const views = { adapters, tenants, usage, live, playground };
const wired = new Set();   // views whose event listeners are attached (once, at their first showing)
let current = null;

/**
 * Who the key is: the admin key may list tenants, a tenant key is refused that (403) and names its tenant in
 * /v1/admin/usage; an unknown or revoked key is refused everything (401).
 */
async function whoAmI() {
  try {
    const list = await get('/v1/admin/tenants');
    return { admin: true, tenant: null, tenantNames: list.data.map((t) => t.name) };
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) {
      throw e;
    }
  }
  const own = await get('/v1/admin/usage');
  return { admin: false, tenant: own.tenant, tenantNames: [own.tenant] };
}

const ctx = {
  admin: false,
  tenant: null,
  /** Refreshes the tenant pickers (admin) after tenants change. */
  async refreshTenants() {
    if (!ctx.admin) {
      return;
    }
    const list = await get('/v1/admin/tenants');
    ctx.tenantNames = list.data.map((t) => t.name);
    for (const select of document.querySelectorAll('select[data-tenant-picker]')) {
      fillSelect(select, ctx.tenantNames);
    }
  },
};

function navigate(name) {
  if (current && current.hide) {
    current.hide();
  }
  for (const n of Object.keys(views)) {
    $('view-' + n).hidden = n !== name;
  }
  for (const b of document.querySelectorAll('nav button')) {
    if (b.dataset.view === name) {
      b.setAttribute('aria-current', 'page');
    } else {
      b.removeAttribute('aria-current');
    }
  }
  current = views[name];
  if (current.wire && !wired.has(name)) {
    current.wire();
    wired.add(name);
  }
  showError($('view-error'), null);
  Promise.resolve(current.show(ctx)).catch((e) => showError($('view-error'), e));
}

async function enter() {
  const who = await whoAmI();
  Object.assign(ctx, who);
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  const who_ = $('whoami');
  who_.hidden = false;
  who_.textContent = ctx.admin ? 'admin' : 'tenant ' + ctx.tenant;
  who_.dataset.role = ctx.admin ? 'admin' : 'tenant';
  for (const e of document.querySelectorAll('[data-admin]')) {
    e.hidden = !ctx.admin;
  }
  for (const select of document.querySelectorAll('select[data-tenant-picker]')) {
    fillSelect(select, ctx.tenantNames);
  }
  navigate('adapters');
  document.querySelector('nav button[data-view="adapters"]').focus();
}

function leave(message) {
  session.clear();
  if (current && current.hide) {
    current.hide();
  }
  current = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('whoami').hidden = true;
  $('login-view').hidden = false;
  $('api-key').value = '';
  showError($('login-error'), message ? { message } : null);
  $('api-key').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError($('login-error'), null);
  session.set($('api-key').value.trim());
  try {
    await enter();
  } catch (err) {
    leave(err.message);
  }
});

$('logout').addEventListener('click', () => leave(null));

for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => navigate(b.dataset.view));
}

if (session.key()) {
  enter().catch((err) => leave(err.message));
}
