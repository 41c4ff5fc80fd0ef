// The collections: size, points, vectors and payload indexes; in recovery mode, delete.
import { api } from '../api.js';
import { badge, bytes, card, count, dialog, h, table, toast } from '../ui.js';

export function title() {
  return 'Collections';
}

/** "384 · Cosine" for an unnamed vector, "text 384 · Cosine, image 512 · Dot" for named ones, plus sparse names. */
export function vectorsSummary(config) {
  const params = (config && config.params) || {};
  const parts = [];
  const v = params.vectors;
  if (v && typeof v.size === 'number') parts.push(`${v.size} · ${v.distance}`);
  else if (v) for (const [name, p] of Object.entries(v)) parts.push(`${name} ${p.size} · ${p.distance}`);
  for (const name of Object.keys(params.sparse_vectors || {})) parts.push(`${name} sparse`);
  return parts.join(', ') || '—';
}

function statusBadge(status) {
  return badge(status || 'unknown', { green: 'good', yellow: 'warn', red: 'bad', grey: 'muted' }[status] || 'muted');
}

export async function show(root, _arg, { node, refreshStatus }) {
  const list = await api('GET', '/collections');
  const names = list.collections.map((c) => c.name).sort();
  const infos = await Promise.allSettled(names.map((n) => api('GET', `/collections/${encodeURIComponent(n)}`)));
  if (!node.loaded) await refreshStatus();
  const recovery = node.recovery;
  const rows = names.map((name, i) => {
    const r = infos[i];
    const info = r.status === 'fulfilled' ? r.value : null;
    const indexes = info ? Object.entries(info.payload_schema || {}) : [];
    return h('tr', { 'data-test': 'collection-row', 'data-name': name },
      h('td', {}, h('a', { href: `#collection/${encodeURIComponent(name)}`, 'data-test': 'collection-link' }, name)),
      h('td', {}, info ? statusBadge(info.status) : badge('error', 'bad')),
      h('td', { class: 'num', 'data-test': 'points-count' }, info ? count(info.points_count) : '—'),
      h('td', {}, info ? vectorsSummary(info.config) : h('span', { class: 'error-text' }, r.reason.message)),
      h('td', {}, indexes.length ? indexes.map(([f, s]) => h('span', { class: 'chip' }, `${f}: ${s.data_type}`)) : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'num', 'data-test': 'size-on-disk' }, info ? bytes(info.size_on_disk_bytes) : '—'),
      recovery ? h('td', {}, h('button', {
        type: 'button', class: 'btn danger small', 'data-test': 'delete-collection', onclick: () => confirmDelete(name, root, { node, refreshStatus }),
      }, 'Delete…')) : null);
  });
  const headers = ['Name', 'Status', 'Points', 'Vectors', 'Payload indexes', 'Size on disk'];
  if (recovery) headers.push('');
  root.replaceChildren(
    card(null,
      h('div', { class: 'card-head' },
        h('h2', {}, `${names.length} collection${names.length === 1 ? '' : 's'}`),
        h('button', { type: 'button', class: 'btn ghost', onclick: () => show(root, null, { node, refreshStatus }) }, 'Refresh')),
      recovery ? h('p', { class: 'muted' }, 'Recovery mode: counts are unknown until the collections load; sizes are read from disk.') : null,
      table(headers, rows, { 'data-test': 'collections-table' })));
}

function confirmDelete(name, root, ctx) {
  const typed = h('input', { class: 'input', 'data-test': 'delete-name', placeholder: name, autocomplete: 'off' });
  dialog({
    title: `Delete collection ${name}?`,
    test: 'delete-dialog',
    body: [
      h('p', {}, 'This deletes the collection and all its data on disk for good. Type its name to confirm.'),
      typed,
    ],
    confirm: {
      label: 'Delete for good',
      danger: true,
      requireCheck: 'I understand the data cannot be recovered',
      onConfirm: async () => {
        if (typed.value !== name) throw new Error('The name does not match.');
        await api('DELETE', `/collections/${encodeURIComponent(name)}`);
        toast(`Collection ${name} deleted`, 'good');
        await show(root, null, ctx);
      },
    },
  });
}

