// The cluster: nodes, their lock state and mode. A single node when clustering is off or GET /cluster
// is not there; only this node's lock when GET /locks?scope=cluster is not supported.
import { api, ApiError } from '../api.js';
import { badge, card, errorBox, h, table } from '../ui.js';

export function title() {
  return 'Cluster';
}

function lockBadge(lock) {
  if (!lock) return h('span', { class: 'muted' }, 'unknown');
  if (lock.error) return badge(`no answer: ${lock.error}`, 'bad');
  const manual = lock.write ? badge(`locked: ${lock.error_message || 'Write operations are forbidden'}`, 'warn') : badge('open', 'good');
  return lock.disk_write_block ? [manual, ' ', badge('disk write block', 'bad')] : manual;
}

function modeBadge(mode) {
  if (mode === 'recovery') return badge('recovery', 'bad');
  if (mode === 'normal') return badge('normal', 'good');
  return h('span', { class: 'muted' }, mode || 'unknown');
}

/** Another node's mode, from its own telemetry (it may not be reachable from this browser). */
async function remoteMode(uri) {
  try {
    const t = await api('GET', `${uri.replace(/\/$/, '')}/telemetry`, undefined, { absolute: true, timeoutMs: 3000 });
    return t.app.features.recovery_mode ? 'recovery' : 'normal';
  } catch (e) {
    return e.status === 401 ? 'unknown (key refused)' : 'unknown (not reachable from this browser)';
  }
}

export async function show(root, _arg, ctx) {
  await ctx.refreshStatus();
  const node = ctx.node;
  const thisMode = node.recovery ? 'recovery' : 'normal';
  let status;
  try {
    status = await api('GET', '/cluster');
  } catch (e) {
    if (e.status === 401 || !(e instanceof ApiError) || e.status >= 500) throw e;
    status = { status: 'disabled', unavailable: e.message };
  }
  if (status.status !== 'enabled') {
    root.replaceChildren(card('Single node',
      h('p', { 'data-test': 'single-node' }, status.unavailable
        ? `This node answers no cluster status (${status.unavailable}): it runs as a single node.`
        : 'Clustering is disabled: this node runs alone.'),
      table(['Peer', 'Mode', 'Write lock'], [h('tr', { 'data-test': 'peer-row' },
        h('td', { class: 'mono' }, `${node.peerId} (this node)`), h('td', {}, modeBadge(thisMode)), h('td', {}, lockBadge(node.lock)))])));
    return;
  }
  let locks = null;
  let lockNote = null;
  try {
    const r = await api('GET', '/locks?scope=cluster');
    if (r && r.peers) {
      locks = { ...r.peers };
      for (const [id, v] of Object.entries(r.not_answered || {})) locks[id] = { error: v.error || 'no answer' };
    } else {
      lockNote = 'This node does not report the other nodes\' locks; only its own is shown.';
    }
  } catch (e) {
    if (e.status === 401) throw e;
    lockNote = `Cluster-wide lock state not available (${e.message}); only this node's lock is shown.`;
  }
  // peer ids are 64-bit: JSON.parse rounds the number `peer_id`, so this node is found by the string
  // id of its telemetry (the keys of `peers` are strings too)
  const self = String(node.peerId);
  const ids = Object.keys(status.peers || {}).sort();
  const modes = await Promise.all(ids.map((id) => (id === self ? thisMode : remoteMode(status.peers[id].uri))));
  const rows = ids.map((id, i) => h('tr', { 'data-test': 'peer-row' },
    h('td', { class: 'mono' }, id === self ? `${id} (this node)` : id),
    h('td', { class: 'mono' }, status.peers[id].uri),
    h('td', {}, modeBadge(modes[i])),
    h('td', {}, lockBadge(locks ? locks[id] : id === self ? node.lock : null))));
  root.replaceChildren(card(`${ids.length} nodes`,
    lockNote ? errorBox(new Error(lockNote)) : null,
    table(['Peer', 'REST URI', 'Mode', 'Write lock'], rows)));
}
