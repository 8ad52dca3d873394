// Elements built with textContent only: no server string ever goes through innerHTML.

/** el('td', {className: 'num', dataset: {testid: 'x'}}, 'text', child, ...) */
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'dataset') {
      Object.assign(e.dataset, v);
    } else if (k.startsWith('on')) {
      e.addEventListener(k.slice(2), v);
    } else if (v !== undefined && v !== null && v !== false) {
      e[k] = v;
    }
  }
  for (const c of children) {
    if (c !== undefined && c !== null) {
      e.append(c instanceof Node ? c : String(c));
    }
  }
  return e;
}

export const $ = (id) => document.getElementById(id);

/** Shows an error (or clears it with null) in an element with role=alert. */
export function showError(target, err) {
  target.textContent = err ? (err.message || String(err)) : '';
}

export function bytes(n) {
  if (n === undefined || n === null) {
    return '–';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

/** Fills a <select> with option values = ids (textContent), keeping the current choice when it still exists. */
export function fillSelect(select, ids, labels) {
  const keep = select.value;
  select.replaceChildren(...ids.map((id, i) => el('option', { value: id }, labels ? labels[i] : id)));
  if (ids.includes(keep)) {
    select.value = keep;
  }
}

const dialog = () => $('confirm');

/** A modal yes/no question (the <dialog> element: focus trapped, Escape cancels); resolves to true for OK. */
export function confirmDialog(text) {
  const d = dialog();
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}
