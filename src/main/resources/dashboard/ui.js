// Small DOM helpers. Data from the server only ever becomes text nodes, never markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

export function table(headers, rows, attrs = {}) {
  return h('table', { class: 'table', ...attrs },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'Nothing to show'))));
}

export function stat(label, value, test) {
  return h('div', { class: 'stat', 'data-test': test }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind || ''}` }, text);
}

export function errorBox(e) {
  return h('div', { class: 'error', 'data-test': 'error' }, e && e.message ? e.message : String(e));
}

export function toast(message, kind = 'info') {
  const el = h('div', { class: `toast ${kind}`, 'data-test': 'toast' }, message);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}

export function bytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function count(n) {
  return n === undefined || n === null ? '—' : Number(n).toLocaleString('en-US');
}

export function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/**
 * A modal dialog. `body` is a list of nodes; `confirm` is {label, danger, requireCheck, onConfirm}:
 * the confirm button stays disabled until the checkbox (if any) is ticked; onConfirm may return a
 * promise, and the dialog closes when it resolves (its error is shown in the dialog otherwise).
 */
export function dialog({ title, body, confirm, test }) {
  const error = h('div', { class: 'error', hidden: true });
  const check = confirm.requireCheck
    ? h('input', { type: 'checkbox', id: 'dialog-check', 'data-test': 'confirm-check' })
    : null;
  const ok = h('button', {
    type: 'button', class: `btn ${confirm.danger ? 'danger' : 'primary'}`, 'data-test': 'confirm-button', disabled: !!check,
  }, confirm.label);
  const cancel = h('button', { type: 'button', class: 'btn ghost', 'data-test': 'cancel-button' }, 'Cancel');
  const el = h('dialog', { class: 'dialog', 'data-test': test || 'dialog' },
    h('h2', {}, title),
    body,
    check ? h('label', { class: 'check', for: 'dialog-check' }, check, ' ', confirm.requireCheck) : null,
    error,
    h('div', { class: 'dialog-actions' }, cancel, ok));
  if (check) check.addEventListener('change', () => { ok.disabled = !check.checked; });
  cancel.addEventListener('click', () => el.close());
  el.addEventListener('close', () => el.remove());
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    try {
      await confirm.onConfirm();
      el.close();
    } catch (e) {
      error.hidden = false;
      error.textContent = e.message || String(e);
      ok.disabled = false;
    }
  });
  document.body.append(el);
  el.showModal();
  return el;
}
