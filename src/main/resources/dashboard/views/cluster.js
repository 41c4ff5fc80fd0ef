// The cluster: the Raft group, its peers (p2p and REST URIs, up or down, write lock, role, mode) and
// each collection's replicas by node: each replica's state, the primary of each shard and the
// running transfers. show() asks the API and asks again whenever the node's status is refreshed (every
// few seconds), so that a replica turning Dead, then Partial, then Active shows as it happens;
// render() and replicas() are pure functions of its JSON answers, so that a test can feed them canned
// ones. A single node when clustering is off or GET /cluster is not there.
import { api, ApiError, settleBounded } from '../api.js';
import { badge, card, count, errorBox, h, stat, table } from '../ui.js';

/** Collections whose shards are asked for at once. */
const PARALLEL_CALLS = 4;
const PEER_TIMEOUT_MS = 3000;

export function title() {
  return 'Cluster';
}

// Peer ids are 64-bit: JSON.parse rounds numbers such as `peer_id` and `leader`, never the string keys
// of `peers`, so a number is matched to the key that rounds to it.
function keyOf(ids, n) {
  if (n === null || n === undefined) return null;
  return ids.find((id) => Number(id) === Number(n)) ?? String(n);
}

function byId(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The peers of GET /cluster joined with the report of GET /locks?scope=cluster (null when there is
 * none): that report asks every live node, so a peer of the Raft group missing from it is down.
 */
export function peers(status, locks) {
  const ids = Object.keys(status.peers || {}).sort(byId);
  const self = keyOf(ids, status.peer_id);
  const leader = keyOf(ids, (status.raft_info || {}).leader);
  return ids.map((id) => {
    const answered = locks && locks.peers && locks.peers[id];
    const silent = locks && locks.not_answered && locks.not_answered[id];
    return {
      id,
      uri: status.peers[id].uri,
      restUri: (answered || silent || {}).uri || null,
      self: id === self,
      leader: id === leader,
      lock: answered || (silent ? { error: silent.error || 'no answer' } : null),
      live: locks ? Boolean(answered || silent) : null,
    };
  });
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

function liveBadge(live) {
  if (live === null) return h('span', { class: 'muted' }, 'unknown');
  return live ? badge('up', 'good') : badge('down', 'bad');
}

function roleBadge(role) {
  if (!role) return h('span', { class: 'muted' }, 'unknown');
  return badge(role, role === 'Leader' ? 'good' : role === 'Follower' ? 'muted' : 'warn');
}

/** A replica's state: Active green, Dead red, Listener grey, on its way to Active (Partial, Initializing, Recovery) amber. */
function stateKind(state) {
  return state === 'Active' ? 'good' : state === 'Dead' ? 'bad' : state === 'Listener' ? 'muted' : 'warn';
}

function stateBadge(state) {
  return badge(state || 'unknown', stateKind(state));
}

function range(n) {
  return Array.from({ length: Number(n) || 0 }, (_, i) => i);
}

/** A peer id (a key of GET /cluster's `peers`, exact) as an unsigned 64-bit number; -1 when not known. */
function peerNumber(id) {
  return typeof id === 'string' && /^\d+$/.test(id) ? BigInt(id) : -1n;
}

/** The primary of a shard among its replicas: the Active one on the highest peer id, or null. */
function primaryOf(held) {
  return held.filter((r) => r.state === 'Active')
    .reduce((best, r) => (best === null || peerNumber(r.peer) > peerNumber(best.peer) ? r : best), null);
}

/** Every replica known, this node's with its point count, another peer's under its exact id. */
function replicaList(info, peerList) {
  const ids = peerList.map((p) => p.id);
  // this node's id only from the peers' keys: a rounded number would name another id
  const self = peerList.find((p) => p.self)?.id ?? null;
  return [
    ...(info.local_shards || []).map((s) => ({ ...s, peer: self, local: true })),
    ...(info.remote_shards || []).map((s) => ({ ...s, peer: keyOf(ids, s.peer_id), local: false })),
  ];
}

/**
 * One collection's shards by node, from GET /collections/{name}/cluster: a row per replica with its
 * state, this node's with its point count, another peer's with its id, marked when `peerList` says it
 * is down; when a shard has several replicas, its primary is named.
 */
export function shardTable(info, peerList = []) {
  const down = new Set(peerList.filter((p) => p.live === false).map((p) => p.id));
  const replicas = replicaList(info, peerList);
  const shardIds = [...new Set([...range(info.shard_count), ...replicas.map((r) => r.shard_id)])].sort((a, b) => a - b);
  const rows = shardIds.flatMap((id) => {
    const held = replicas.filter((r) => r.shard_id === id);
    if (!held.length) {
      return [h('tr', { 'data-test': 'shard-row', 'data-shard': id },
        h('td', { class: 'num' }, id), h('td', { class: 'muted' }, 'no replica known'), h('td', {}), h('td', {}), h('td', {}))];
    }
    const primary = held.length > 1 ? primaryOf(held) : null;
    return held.map((r) => h('tr', {
      'data-test': 'shard-row', 'data-shard': id, 'data-peer': r.peer ?? 'self', 'data-local': String(r.local),
      'data-state': r.state, 'data-primary': String(r === primary),
    },
    h('td', { class: 'num' }, r.shard_key === undefined ? id : `${id} (key ${JSON.stringify(r.shard_key)})`),
    h('td', { class: 'mono' }, r.local ? (r.peer ? `${r.peer} (this node)` : 'this node') : r.peer),
    h('td', {}, stateBadge(r.state), down.has(r.peer) ? [' ', badge('peer down', 'bad')] : null),
    h('td', { 'data-test': 'shard-role' }, r === primary ? h('strong', {}, 'primary') : held.length > 1 ? h('span', { class: 'muted' }, 'replica') : null),
    h('td', { class: 'num', 'data-test': 'shard-points' }, r.local ? count(r.points_count) : '—')));
  });
  return table(['Shard', 'Peer', 'State', 'Role', 'Points'], rows, { 'data-test': 'shard-table' });
}

/**
 * The collection's running shard transfers (null when none): from -> to, a move (`sync` false: the
 * source gives its replica up) or a copy, the method and the progress, which only the receiving node
 * reports.
 */
export function transferTable(info, peerList = []) {
  const transfers = info.shard_transfers || [];
  if (!transfers.length) return null;
  const ids = peerList.map((p) => p.id);
  const self = peerList.find((p) => p.self)?.id ?? null;
  const named = (id) => (id !== null && id === self ? `${id} (this node)` : id);
  const rows = transfers.map((t) => {
    const from = keyOf(ids, t.from);
    const to = keyOf(ids, t.to);
    return h('tr', { 'data-test': 'transfer-row', 'data-shard': t.shard_id, 'data-from': from, 'data-to': to },
      h('td', { class: 'num' }, t.shard_id),
      h('td', { class: 'mono' }, named(from), ' → ', named(to)),
      h('td', {}, t.sync ? 'copy' : 'move'),
      h('td', { class: 'mono' }, t.method || '—'),
      h('td', { 'data-test': 'transfer-progress' }, t.comment || h('span', { class: 'muted' }, 'reported by the receiving node')));
  });
  return h('div', {}, h('p', { class: 'muted' }, 'Running transfers'),
    table(['Shard', 'From → to', 'Kind', 'Method', 'Progress'], rows, { 'data-test': 'transfer-table' }));
}

/** How many replicas are in each state, Active first: `4 Active · 1 Dead · 1 Partial`. */
function replicaSummary(info, peerList) {
  const counts = new Map();
  for (const r of replicaList(info, peerList)) counts.set(r.state, (counts.get(r.state) || 0) + 1);
  const states = [...counts.keys()].sort((a, b) => (b === 'Active') - (a === 'Active'));
  const transfers = (info.shard_transfers || []).length;
  return h('p', { class: 'muted', 'data-test': 'replica-summary' },
    states.map((s, i) => [i ? ' ' : null, badge(`${counts.get(s)} ${s || 'unknown'}`, stateKind(s))]),
    transfers ? ` · ${transfers} transfer${transfers === 1 ? '' : 's'} running` : null);
}

/**
 * A collection's replicas from GET /collections/{name}/cluster: in cluster mode (a `peerList`) a line
 * of counts by state, then the shards by node, then the running transfers.
 */
export function replicas(info, peerList = []) {
  return h('div', { 'data-test': 'replicas' },
    peerList.length ? replicaSummary(info, peerList) : null,
    shardTable(info, peerList),
    transferTable(info, peerList));
}

function collectionCard({ name, info, error }, peerList) {
  return h('section', { class: 'card', 'data-test': 'collection-shards', 'data-name': name },
    h('h2', {}, 'Shards of ', h('a', { href: `#collection/${encodeURIComponent(name)}` }, name)),
    info ? replicas(info, peerList) : errorBox(error));
}

function raftCard(status, peerList) {
  const raft = status.raft_info || {};
  const thread = status.consensus_thread_status || {};
  const leader = peerList.find((p) => p.leader);
  const failures = Object.entries(status.message_send_failures || {});
  return card('Raft group',
    h('div', { class: 'stats' },
      stat('term', count(raft.term), 'raft-term'),
      stat('commit', count(raft.commit), 'raft-commit'),
      stat('pending operations', count(raft.pending_operations), 'raft-pending'),
      stat('leader', leader ? leader.id : 'none', 'raft-leader'),
      stat(`this node: ${raft.is_voter ? 'voter' : 'not a voter'}`, roleBadge(raft.role), 'raft-role'),
      stat('consensus', badge(thread.consensus_thread_status || 'unknown',
        thread.consensus_thread_status === 'working' ? 'good' : 'bad'), 'consensus-status')),
    thread.err ? errorBox(new Error(`Consensus stopped: ${thread.err}`)) : null,
    failures.length ? table(['Failed sends to', 'Count', 'Latest error'], failures.map(([uri, f]) => h('tr', {},
      h('td', { class: 'mono' }, uri), h('td', { class: 'num' }, count(f.count)), h('td', { class: 'wrap' }, f.latest_error)))) : null);
}

function peersCard(status, peerList, remote, lockNote) {
  const raft = status.raft_info || {};
  const rows = peerList.map((p) => {
    const r = remote[p.id] || {};
    const role = p.self ? raft.role : r.role || (p.leader ? 'Leader' : null);
    return h('tr', { 'data-test': 'peer-row', 'data-peer': p.id, 'data-leader': String(p.leader), 'data-live': String(p.live) },
      h('td', { class: 'mono' }, p.id, p.self ? ' (this node)' : null, p.leader ? [' ', badge('leader', 'good')] : null),
      h('td', {}, roleBadge(role)),
      h('td', { class: 'mono' }, p.uri),
      h('td', { class: 'mono' }, p.restUri || h('span', { class: 'muted' }, 'unknown')),
      h('td', {}, liveBadge(p.live)),
      h('td', {}, modeBadge(r.mode)),
      h('td', {}, lockBadge(p.lock)));
  });
  return card(`${peerList.length} peers`,
    lockNote ? errorBox(new Error(lockNote)) : null,
    table(['Peer', 'Raft role', 'P2P URI', 'REST URI', 'State', 'Mode', 'Write lock'], rows, { 'data-test': 'peer-table' }));
}

/**
 * The view from the API's answers: `status` (GET /cluster), `locks` (GET /locks?scope=cluster, or
 * null) with `lockNote` saying why it is missing, `collections` ([{name, info}] from GET
 * /collections/{name}/cluster, or [{name, error}]), `remote` (peer id -> {role, mode} as that peer
 * told this browser) and `node` (this node: peerId, recovery, lock). Makes no call.
 */
export function render({ status, locks = null, lockNote = null, collections = [], remote = {}, node = {} }) {
  if (status.status !== 'enabled') {
    return [
      card('Single node',
        h('p', { 'data-test': 'single-node' }, status.unavailable
          ? `This node answers no cluster status (${status.unavailable}): it runs as a single node.`
          : 'Clustering is disabled: this node runs alone.'),
        table(['Peer', 'Mode', 'Write lock'], [h('tr', { 'data-test': 'peer-row' },
          h('td', { class: 'mono' }, `${node.peerId} (this node)`), h('td', {}, modeBadge(node.recovery ? 'recovery' : 'normal')),
          h('td', {}, lockBadge(node.lock)))])),
      ...collections.map((c) => collectionCard(c, [])),
    ];
  }
  const peerList = peers(status, locks);
  const self = peerList.find((p) => p.self);
  // this node's own lock and mode are known even when the cluster-wide report is not
  if (self && !self.lock) self.lock = node.lock;
  const told = self ? { ...remote, [self.id]: { mode: node.recovery ? 'recovery' : 'normal' } } : remote;
  return [
    raftCard(status, peerList),
    peersCard(status, peerList, told, lockNote),
    ...collections.map((c) => collectionCard(c, peerList)),
  ];
}

/** GET /cluster and, in cluster mode, GET /locks?scope=cluster: {status, locks, lockNote}. */
export async function loadCluster() {
  let status;
  try {
    status = await api('GET', '/cluster');
  } catch (e) {
    if (e.status === 401 || !(e instanceof ApiError) || e.status >= 500) throw e;
    status = { status: 'disabled', unavailable: e.message };
  }
  if (status.status !== 'enabled') return { status, locks: null, lockNote: null };
  try {
    const locks = await api('GET', '/locks?scope=cluster');
    if (locks && locks.peers) return { status, locks, lockNote: null };
    return { status, locks: null, lockNote: 'This node does not report the other nodes\' locks; which peers are down is unknown.' };
  } catch (e) {
    if (e.status === 401) throw e;
    return { status, locks: null, lockNote: `Cluster-wide lock state not available (${e.message}); which peers are down is unknown.` };
  }
}

/** Another node's Raft role and mode, from its own telemetry (it may not be reachable from this browser). */
async function remotePeer(restUri) {
  try {
    const t = await api('GET', `${restUri.replace(/\/$/, '')}/telemetry?details_level=1`, undefined,
      { absolute: true, timeoutMs: PEER_TIMEOUT_MS });
    const status = (t.cluster && t.cluster.status) || {};
    return { role: status.role || null, mode: t.app.features.recovery_mode ? 'recovery' : 'normal' };
  } catch (e) {
    return { mode: e.status === 401 ? 'unknown (key refused)' : 'unknown (not reachable from this browser)' };
  }
}

async function collectionShards() {
  const list = await api('GET', '/collections');
  const names = list.collections.map((c) => c.name).sort();
  const answers = await settleBounded(names, PARALLEL_CALLS, (n) => api('GET', `/collections/${encodeURIComponent(n)}/cluster`));
  return names.map((name, i) => (answers[i].status === 'fulfilled' ? { name, info: answers[i].value } : { name, error: answers[i].reason }));
}

/** Everything the view shows, asked of the API again. */
async function load(ctx) {
  const { status, locks, lockNote } = await loadCluster();
  const others = status.status === 'enabled' ? peers(status, locks).filter((p) => !p.self && p.restUri && p.live) : [];
  const [collections, remoteAnswers] = await Promise.all([
    collectionShards(),
    Promise.all(others.map((p) => remotePeer(p.restUri))),
  ]);
  const remote = Object.fromEntries(others.map((p, i) => [p.id, remoteAnswers[i]]));
  return render({ status, locks, lockNote, collections, remote, node: ctx.node });
}

let watcher = null;
/** Grows whenever the view is left, so that a show() still waiting for its answers draws nothing. */
let shown = 0;

export function leave() {
  if (watcher) watcher.node.offChange(watcher.listener);
  watcher = null;
  shown++;
}

function markup(nodes) {
  return nodes.map((n) => n.outerHTML).join('');
}

/**
 * The view is asked again each time the node's status is refreshed, one load at a time, and drawn
 * again only when it changed (so that a selection or a hovered row survives); a load that fails keeps
 * what was shown, under the error.
 */
function follow(root, ctx, drawn) {
  let busy = false;
  let last = drawn;
  const current = () => watcher && watcher.listener === listener;
  const listener = async () => {
    if (busy) return;
    busy = true;
    try {
      const view = await load(ctx);
      if (!current()) return;
      root.querySelector('[data-test=refresh-error]')?.remove();
      const next = markup(view);
      if (next !== last) root.replaceChildren(...view);
      last = next;
    } catch (e) {
      if (current()) {
        root.querySelector('[data-test=refresh-error]')?.remove();
        const note = errorBox(new Error(`Not refreshed: ${e.message || e}`));
        note.dataset.test = 'refresh-error';
        root.prepend(note);
      }
    } finally {
      busy = false;
    }
  };
  watcher = { node: ctx.node, listener };
  ctx.node.onChange(listener);
}

export async function show(root, _arg, ctx) {
  leave();
  const mine = shown;
  await ctx.refreshStatus();
  const view = await load(ctx);
  if (mine !== shown) return;
  root.replaceChildren(...view);
  follow(root, ctx, markup(view));
}
