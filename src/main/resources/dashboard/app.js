// The dashboard's shell: navigation, the node's status in the top bar, the API key prompt.
import { api, apiKey, apiText, onUnauthorized, setApiKey } from './api.js';
import { parseMetrics, scalar } from './prometheus.js';
import { dialog, h, toast } from './ui.js';
import * as collections from './views/collections.js';
import * as collection from './views/collection.js';
import * as lock from './views/lock.js';
import * as cluster from './views/cluster.js';
import * as metrics from './views/metrics.js';

const VIEWS = { collections, collection, lock, cluster, metrics };
const STATUS_PERIOD_MS = 5000;

/** What the top bar and every view know about the node; refreshed every few seconds. */
export const node = {
  loaded: false,
  peerId: null,
  version: null,
  recovery: false,
  recoveryMessage: null,
  lock: null,
  listeners: [],
  onChange(listener) {
    this.listeners.push(listener);
  },
  offChange(listener) {
    this.listeners = this.listeners.filter((l) => l !== listener);
  },
};

let keyDialogOpen = false;
// once the user cancels the prompt, background polling stops asking; the API key button asks again
let keyDismissed = false;
let current = null;

export async function refreshStatus() {
  try {
    const [telemetry, ready, locks, metricsText] = await Promise.all([api('GET', '/telemetry'), apiText('/readyz'),
      api('GET', '/locks'), apiText('/metrics')]);
    node.loaded = true;
    node.peerId = telemetry.id;
    node.version = telemetry.app && telemetry.app.version;
    node.recovery = !!(telemetry.app && telemetry.app.features && telemetry.app.features.recovery_mode);
    // /readyz is the one place that names the recovery reason: "all shards are ready (recovery mode: why)"
    const m = /recovery mode: (.*)\)$/s.exec(ready.text);
    node.recoveryMessage = node.recovery ? (m ? m[1] : 'recovery mode') : null;
    // the manual lock from GET /locks, and the writes it refused since start from the node's metrics
    node.lock = { write: !!locks.write, error_message: locks.error_message ?? null,
      rejected_writes: scalar(parseMetrics(metricsText.text || ''), 'quiver_rejected_writes_total') };
    // the automatic disk write block (507), a cause separate from the manual lock; GET /locks shows it while on
    node.diskBlock = locks.disk_write_block || null;
  } catch (e) {
    node.loaded = false;
    node.error = e;
  }
  renderStatus();
  node.listeners.forEach((l) => l(node));
}

function renderStatus() {
  const mode = document.getElementById('mode-pill');
  const lockPill = document.getElementById('lock-pill');
  const banner = document.getElementById('recovery-banner');
  if (!node.loaded) {
    mode.textContent = node.error && node.error.status === 401 ? 'API key needed' : 'unreachable';
    mode.className = 'pill bad';
    lockPill.textContent = '…';
    lockPill.className = 'pill';
    return;
  }
  mode.textContent = node.recovery ? 'recovery mode' : 'ready';
  mode.className = `pill ${node.recovery ? 'bad' : 'good'}`;
  const locked = node.lock && node.lock.write;
  lockPill.textContent = locked ? 'writes locked' : node.diskBlock ? 'writes blocked: disk' : 'writes open';
  lockPill.className = `pill ${locked ? 'warn' : node.diskBlock ? 'bad' : 'good'}`;
  lockPill.dataset.locked = locked ? 'true' : 'false';
  banner.hidden = !node.recovery;
  banner.replaceChildren();
  if (node.recovery) {
    banner.append(h('strong', {}, 'Recovery mode: '), h('span', { 'data-test': 'recovery-message' }, node.recoveryMessage),
      h('span', {}, ' · only collection metadata is loaded; delete the collection that cannot load, then restart without recovery mode.'));
  }
  document.getElementById('node-info').replaceChildren(
    h('div', {}, `peer ${node.peerId}`), h('div', {}, `API ${node.version}`));
}

function askForKey(reason, { automatic = false } = {}) {
  if (keyDialogOpen || (automatic && keyDismissed)) return;
  keyDialogOpen = true;
  let accepted = false;
  const input = h('input', {
    type: 'password', class: 'input', 'data-test': 'api-key-input', autocomplete: 'off', placeholder: 'api key', value: apiKey(),
  });
  const d = dialog({
    title: 'API key',
    test: 'key-dialog',
    body: [
      h('p', {}, reason || 'This node has API keys. The dashboard sends the key you type with every call, as the api-key header; it is kept in this tab only.'),
      input,
    ],
    confirm: {
      label: 'Use this key',
      onConfirm: async () => {
        accepted = true;
        keyDismissed = false;
        setApiKey(input.value.trim());
        route();
        refreshStatus();
      },
    },
  });
  d.addEventListener('close', () => {
    keyDialogOpen = false;
    if (!accepted) keyDismissed = true;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') d.querySelector('[data-test=confirm-button]').click();
  });
  input.focus();
}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || 'collections';
  const [name, ...rest] = hash.split('/');
  const view = VIEWS[name] || collections;
  const arg = rest.join('/');
  document.querySelectorAll('.sidebar a').forEach((a) => {
    a.classList.toggle('active', a.dataset.view === name || (name === 'collection' && a.dataset.view === 'collections'));
  });
  if (current && current.leave) current.leave();
  current = view;
  document.getElementById('view-title').textContent = view.title(arg);
  const root = document.getElementById('view');
  root.replaceChildren(h('div', { class: 'muted' }, 'Loading…'));
  view.show(root, arg, { node, refreshStatus }).catch((e) => {
    root.replaceChildren(h('div', { class: 'error', 'data-test': 'error' }, e.message || String(e)));
  });
}

onUnauthorized((message) => askForKey(message.includes('Invalid')
  ? 'The key was refused. Type a valid API key.'
  : undefined, { automatic: true }));
document.getElementById('key-button').addEventListener('click', () => askForKey());
window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason && e.reason.status !== 401) toast(e.reason.message || String(e.reason), 'bad');
});
route();
refreshStatus();
setInterval(refreshStatus, STATUS_PERIOD_MS);
metrics.startSampling();
