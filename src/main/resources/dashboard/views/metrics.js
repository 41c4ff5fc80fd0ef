// Request rates and latencies from the node's own /metrics (Prometheus text), sampled every few
// seconds while the page is open; the charts show the deltas between samples. REST and gRPC calls
// are counted alike: a REST error is a 4xx or 5xx, a gRPC error any status but OK. In cluster mode,
// the replicas by state, the running transfers and this node's replication counters.
import { apiText } from '../api.js';
import { lineChart, legend } from '../chart.js';
import { byLabel, parseMetrics, scalar } from '../prometheus.js';
import { bytes, card, count, h, stat, table } from '../ui.js';

const PERIOD_MS = 3000;
const WINDOW_MS = 5 * 60 * 1000;
/** The sampler's own calls and the page's files are left out of the rates. */
const IGNORED = new Set(['GET /metrics', 'GET /dashboard']);

const samples = []; // {t, byEndpoint: Map(key -> {count, seconds, errors}), gauges}
const points = { rate: [], errors: [], latency: [] };
let timer = null;
let redraw = null;

/** Where each metric goes: REST calls keyed by method and path, gRPC calls by RPC (`gRPC /qdrant.Points/Search`). */
const REQUEST_METRICS = {
  rest_responses_total: (e, s) => {
    e.count += s.value;
    if (Number(s.labels.status) >= 400) e.errors += s.value;
  },
  rest_responses_duration_seconds_sum: (e, s) => { e.seconds += s.value; },
  grpc_responses_total: (e, s) => { e.count += s.value; },
  // a gRPC call fails when it ends with any status but OK
  grpc_responses_fail_total: (e, s) => { e.errors += s.value; },
  grpc_responses_duration_seconds_sum: (e, s) => { e.seconds += s.value; },
};

/** The replication metrics, present in cluster mode only (null otherwise). */
function replication(parsed) {
  if (scalar(parsed, 'quiver_shard_transfers') === undefined) return null;
  const results = byLabel(parsed, 'quiver_shard_transfers_total', 'result') || {};
  return {
    cluster: byLabel(parsed, 'quiver_cluster_replicas', 'state') || {},
    local: byLabel(parsed, 'quiver_local_replicas', 'state') || {},
    transfers: scalar(parsed, 'quiver_shard_transfers'),
    done: results.done,
    failed: results.failed,
    markedDead: scalar(parsed, 'quiver_replicas_marked_dead_total'),
    pointsReceived: scalar(parsed, 'quiver_transfer_points_received_total'),
    framesForwarded: scalar(parsed, 'quiver_frames_forwarded_total'),
  };
}

export function summarize(text) {
  const parsed = parseMetrics(text);
  const byEndpoint = new Map();
  for (const s of parsed) {
    const add = REQUEST_METRICS[s.name];
    if (!add) continue;
    const key = s.name.startsWith('grpc_') ? `gRPC ${s.labels.endpoint}` : `${s.labels.method} ${s.labels.endpoint}`;
    const e = byEndpoint.get(key) || { count: 0, seconds: 0, errors: 0 };
    add(e, s);
    byEndpoint.set(key, e);
  }
  return {
    byEndpoint,
    gauges: {
      collections: scalar(parsed, 'collections_total'),
      vectors: scalar(parsed, 'collections_vector_total'),
      heapUsed: scalar(parsed, 'quiver_jvm_heap_used_bytes'),
      heapMax: scalar(parsed, 'quiver_jvm_heap_max_bytes'),
      locked: scalar(parsed, 'quiver_write_locked'),
      rejected: scalar(parsed, 'quiver_rejected_writes_total'),
      inFlight: scalar(parsed, 'quiver_writes_in_flight'),
      diskFree: scalar(parsed, 'quiver_disk_free_bytes'),
      diskBlock: scalar(parsed, 'quiver_disk_write_block'),
    },
    replication: replication(parsed),
  };
}

function totals(sample) {
  let c = 0;
  let s = 0;
  let e = 0;
  for (const [key, v] of sample.byEndpoint) {
    if (IGNORED.has(key)) continue;
    c += v.count;
    s += v.seconds;
    e += v.errors;
  }
  return { count: c, seconds: s, errors: e };
}

async function sample() {
  let r;
  try {
    r = await apiText('/metrics');
  } catch {
    return; // 401 prompts for a key; the next tick tries again
  }
  if (r.status !== 200) return;
  const now = { t: Date.now(), ...summarize(r.text) };
  const prev = samples[samples.length - 1];
  samples.push(now);
  if (prev) {
    const a = totals(prev);
    const b = totals(now);
    const dt = (now.t - prev.t) / 1000;
    const dc = b.count - a.count;
    if (dc >= 0 && dt > 0) {
      points.rate.push([now.t, dc / dt]);
      points.errors.push([now.t, (b.errors - a.errors) / dt]);
      points.latency.push([now.t, dc > 0 ? ((b.seconds - a.seconds) / dc) * 1000 : null]);
    }
  }
  const cutoff = Date.now() - WINDOW_MS - PERIOD_MS;
  while (samples.length > 2 && samples[0].t < cutoff) samples.shift();
  for (const list of Object.values(points)) while (list.length && list[0][0] < cutoff) list.shift();
  if (redraw) redraw();
}

export function startSampling() {
  if (!timer) {
    sample();
    timer = setInterval(sample, PERIOD_MS);
  }
}

export function title() {
  return 'Metrics';
}

export async function show(root) {
  redraw = () => draw(root);
  draw(root);
}

export function leave() {
  redraw = null;
}

/** Replicas by state, the states that have some: `4 Active · 1 Dead` (`none` when there is no replica). */
function byState(states) {
  const some = Object.entries(states).filter(([, n]) => n > 0);
  return some.length ? some.map(([s, n]) => `${count(n)} ${s}`).join(' · ') : 'none';
}

/** The replication card from summarize(text).replication (shown in cluster mode only). */
export function replicationCard(r) {
  return h('section', { class: 'card', 'data-test': 'replication-metrics' }, h('h2', {}, 'Replication'),
    h('div', { class: 'stats' },
      stat('replicas in the cluster', byState(r.cluster), 'metric-cluster-replicas'),
      stat('replicas on this node', byState(r.local), 'metric-local-replicas'),
      stat('transfers running', count(r.transfers), 'metric-transfers'),
      stat('transfers into this node: done / failed', `${count(r.done)} / ${count(r.failed)}`, 'metric-transfer-results'),
      stat('points received by transfers', count(r.pointsReceived)),
      stat('replicas marked Dead by this node', count(r.markedDead), 'metric-marked-dead'),
      stat('writes forwarded to replicas', count(r.framesForwarded))));
}

function draw(root) {
  const last = samples[samples.length - 1];
  const prev = samples[samples.length - 2];
  if (!last) {
    root.replaceChildren(h('div', { class: 'muted' }, 'Waiting for the first sample of /metrics…'));
    return;
  }
  const g = last.gauges;
  const rateSeries = [
    { name: 'requests/s', cls: 's1', points: points.rate },
    { name: 'errors/s (REST 4xx, 5xx; gRPC not OK)', cls: 's2', points: points.errors },
  ];
  const latencySeries = [{ name: 'mean latency (ms)', cls: 's3', points: points.latency }];
  const dt = prev ? (last.t - prev.t) / 1000 : 0;
  const rows = [...last.byEndpoint.entries()]
    .filter(([key]) => key !== 'unmatched ' && !key.startsWith(' '))
    .sort((a, b) => b[1].count - a[1].count)
    .map(([key, v]) => {
      const before = prev && prev.byEndpoint.get(key);
      const rate = before && dt > 0 ? (v.count - before.count) / dt : null;
      return h('tr', {},
        h('td', { class: 'mono' }, key),
        h('td', { class: 'num' }, count(v.count)),
        h('td', { class: 'num' }, count(v.errors)),
        h('td', { class: 'num' }, rate === null ? '—' : rate.toFixed(2)),
        h('td', { class: 'num' }, v.count ? ((v.seconds / v.count) * 1000).toFixed(2) : '—'));
    });
  root.replaceChildren(
    h('div', { class: 'stats' },
      stat('collections', count(g.collections)),
      stat('vectors', count(g.vectors)),
      stat('heap in use', `${bytes(g.heapUsed)} / ${bytes(g.heapMax)}`),
      stat('writes refused by the lock', count(g.rejected)),
      stat('writes in flight', count(g.inFlight)),
      g.diskFree === undefined ? null
        : stat(g.diskBlock ? 'disk free: writes BLOCKED' : 'disk free', g.diskFree < 0 ? 'unknown' : bytes(g.diskFree))),
    ...(last.replication ? [replicationCard(last.replication)] : []),
    h('div', { class: 'grid2' },
      card('Request rate', h('p', { class: 'muted' }, `REST and gRPC, every ${PERIOD_MS / 1000} s, without the dashboard's own /metrics calls`),
        lineChart(rateSeries, { windowMs: WINDOW_MS }), legend(rateSeries)),
      card('Latency', h('p', { class: 'muted' }, 'Mean time to answer over each interval'),
        lineChart(latencySeries, { windowMs: WINDOW_MS, unit: ' ms' }), legend(latencySeries))),
    card('Endpoints since start',
      table(['Endpoint', 'Responses', 'Errors', 'Now (req/s)', 'Mean latency (ms)'], rows, { 'data-test': 'endpoint-table' })));
}
