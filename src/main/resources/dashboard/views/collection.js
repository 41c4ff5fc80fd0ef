// One collection: its numbers and config, its shards by node (in cluster mode its replicas, with
// their states, each shard's primary and the running transfers, followed as the node's status is
// refreshed), a point browser (scroll with a filter) and search by point id.
import { api } from '../api.js';
import { badge, bytes, card, count, errorBox, h, stat, table } from '../ui.js';
import { loadCluster, peers, replicas } from './cluster.js';

export function title(name) {
  return `Collection ${name}`;
}

function pointId(text) {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

function json(value, max = 400) {
  const s = JSON.stringify(value);
  return s && s.length > max ? `${s.slice(0, max)}…` : s;
}

function vectorCell(vector) {
  if (vector === undefined || vector === null) return '—';
  const one = (v) => (Array.isArray(v)
    ? (Array.isArray(v[0]) ? `${v.length}×${v[0].length} multi` : `[${v.slice(0, 3).map((x) => x.toFixed(3)).join(', ')}${v.length > 3 ? ', …' : ''}] (${v.length})`)
    : v && v.indices ? `sparse (${v.indices.length})` : json(v, 60));
  if (Array.isArray(vector)) return one(vector);
  return Object.entries(vector).map(([name, v]) => h('div', {}, `${name}: ${one(v)}`));
}

function vectorNames(config) {
  const v = (config && config.params && config.params.vectors) || {};
  return typeof v.size === 'number' ? [] : Object.keys(v);
}

let watcher = null;

export function leave() {
  if (watcher) watcher.node.offChange(watcher.listener);
  watcher = null;
}

export async function show(root, name, ctx) {
  leave();
  const path = `/collections/${encodeURIComponent(name)}`;
  const info = await api('GET', path);
  const params = info.config.params || {};
  const dense = params.vectors && typeof params.vectors.size === 'number' ? { '(default)': params.vectors } : params.vectors || {};
  const vectorRows = Object.entries(dense).map(([n, p]) => h('tr', {},
    h('td', {}, n), h('td', { class: 'num' }, p.size), h('td', {}, p.distance),
    h('td', {}, p.multivector_config ? 'multivector' : p.datatype || 'float32'),
    h('td', {}, p.on_disk ? 'on disk' : 'in memory')));
  for (const [n, p] of Object.entries(params.sparse_vectors || {})) {
    vectorRows.push(h('tr', {}, h('td', {}, n), h('td', { class: 'num' }, '—'), h('td', {}, 'sparse'),
      h('td', {}, p.modifier ? `modifier ${p.modifier}` : '—'), h('td', {}, '—')));
  }
  const indexRows = Object.entries(info.payload_schema || {}).map(([f, s]) => h('tr', {},
    h('td', {}, f), h('td', {}, s.data_type), h('td', { class: 'num' }, count(s.points)),
    h('td', { class: 'muted' }, s.params ? json(s.params, 120) : '')));

  root.replaceChildren(
    h('p', {}, h('a', { href: '#collections' }, '← All collections')),
    h('div', { class: 'stats' },
      stat('points', count(info.points_count), 'stat-points'),
      stat('indexed vectors', count(info.indexed_vectors_count)),
      stat('segments', count(info.segments_count)),
      stat('size on disk', bytes(info.size_on_disk_bytes)),
      h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, badge(info.status, info.status === 'green' ? 'good' : 'muted')), h('div', { class: 'stat-label' }, 'status'))),
    h('div', { class: 'grid2' },
      card('Vectors', table(['Name', 'Size', 'Distance', 'Type', 'Storage'], vectorRows)),
      card('Payload indexes', table(['Field', 'Type', 'Points', 'Parameters'], indexRows))),
    shards(path, ctx),
    pointBrowser(path),
    searchById(path, vectorNames(info.config)));
}

/**
 * The collection's shards by node; in cluster mode its replicas, with the peers that are down marked,
 * asked again whenever the node's status is refreshed while the section is on the page.
 */
function shards(path, ctx) {
  const title = h('h2', {}, 'Shards');
  const body = h('div', { class: 'muted' }, 'Loading…');
  const section = h('section', { class: 'card', 'data-test': 'collection-shards' }, title, body);
  let busy = false;
  async function load() {
    busy = true;
    try {
      const [info, { status, locks }] = await Promise.all([api('GET', `${path}/cluster`), loadCluster()]);
      const cluster = status.status === 'enabled';
      title.textContent = cluster ? 'Replicas' : 'Shards';
      body.className = '';
      const next = replicas(info, cluster ? peers(status, locks) : []);
      // drawn again only when it changed, so that a selection or a hovered row survives
      if (next.outerHTML !== body.innerHTML) body.replaceChildren(next);
    } catch (e) {
      body.replaceChildren(errorBox(e));
    } finally {
      busy = false;
    }
  }
  load();
  if (ctx && ctx.node) {
    const listener = () => {
      if (!section.isConnected) ctx.node.offChange(listener);
      else if (!busy) load();
    };
    watcher = { node: ctx.node, listener };
    ctx.node.onChange(listener);
  }
  return section;
}

function pointBrowser(path) {
  const filter = h('textarea', {
    class: 'input code', rows: 3, 'data-test': 'scroll-filter', spellcheck: 'false',
    placeholder: '{"must": [{"key": "city", "match": {"value": "Berlin"}}]}   (empty: every point)',
  });
  const limit = h('input', { class: 'input narrow', type: 'number', min: 1, max: 1000, value: '20', 'data-test': 'scroll-limit' });
  const withVectors = h('input', { type: 'checkbox', 'data-test': 'scroll-vectors' });
  const out = h('div', { 'data-test': 'scroll-results' });
  const next = h('button', { type: 'button', class: 'btn ghost', disabled: true, 'data-test': 'scroll-next' }, 'Next page');
  let offset = null;

  async function run(fromOffset) {
    let body;
    try {
      body = { limit: Number(limit.value) || 20, with_payload: true, with_vector: withVectors.checked };
      if (filter.value.trim()) body.filter = JSON.parse(filter.value);
      if (fromOffset !== null && fromOffset !== undefined) body.offset = fromOffset;
    } catch (e) {
      out.replaceChildren(errorBox(new Error(`The filter is not valid JSON: ${e.message}`)));
      return;
    }
    out.replaceChildren(h('div', { class: 'muted' }, 'Loading…'));
    try {
      const r = await api('POST', `${path}/points/scroll`, body);
      offset = r.next_page_offset;
      next.disabled = offset === null || offset === undefined;
      out.replaceChildren(table(['ID', 'Payload', 'Vectors'], r.points.map((p) => h('tr', { 'data-test': 'point-row' },
        h('td', { class: 'mono' }, String(p.id)),
        h('td', { class: 'mono wrap' }, json(p.payload)),
        h('td', { class: 'mono' }, body.with_vector ? vectorCell(p.vector) : h('span', { class: 'muted' }, 'not loaded'))))));
    } catch (e) {
      next.disabled = true;
      out.replaceChildren(errorBox(e));
    }
  }

  next.addEventListener('click', () => run(offset));
  run(null); // the first page at once, unfiltered
  return card('Point browser',
    h('div', { class: 'form' },
      h('label', {}, 'Filter (JSON)', filter),
      h('div', { class: 'row' },
        h('label', {}, 'Limit ', limit),
        h('label', { class: 'check' }, withVectors, ' with vectors'),
        h('button', { type: 'button', class: 'btn primary', 'data-test': 'scroll-button', onclick: () => run(null) }, 'Scroll'),
        next)),
    out);
}

function searchById(path, names) {
  const id = h('input', { class: 'input', placeholder: 'point id: 42 or a UUID', 'data-test': 'search-id' });
  const limit = h('input', { class: 'input narrow', type: 'number', min: 1, max: 100, value: '10' });
  const using = names.length ? h('select', { class: 'input', 'data-test': 'search-using' }, names.map((n) => h('option', { value: n }, n))) : null;
  const out = h('div', { 'data-test': 'search-results' });

  async function run() {
    if (!id.value.trim()) return;
    const body = { query: pointId(id.value), limit: Number(limit.value) || 10, with_payload: true };
    if (using) body.using = using.value;
    out.replaceChildren(h('div', { class: 'muted' }, 'Searching…'));
    try {
      const r = await api('POST', `${path}/points/query`, body);
      out.replaceChildren(table(['ID', 'Score', 'Payload'], r.points.map((p) => h('tr', { 'data-test': 'search-row' },
        h('td', { class: 'mono' }, String(p.id)),
        h('td', { class: 'num' }, p.score === undefined ? '—' : p.score.toFixed(4)),
        h('td', { class: 'mono wrap' }, json(p.payload))))));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  }

  id.addEventListener('keydown', (e) => { if (e.key === 'Enter') run(); });
  return card('Search by point id',
    h('p', { class: 'muted' }, 'The nearest points to the vector of a stored point (the universal query with a point id).'),
    h('div', { class: 'row' }, id, using ? h('label', {}, 'vector ', using) : null, h('label', {}, 'limit ', limit),
      h('button', { type: 'button', class: 'btn primary', 'data-test': 'search-button', onclick: run }, 'Search')),
    out);
}
