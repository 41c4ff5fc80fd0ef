// The node's write lock: state, a toggle that asks for a message and a confirmation, and the
// changes since the node started (GET /locks/history, a Quiver extension).
import { api, ApiError } from '../api.js';
import { badge, card, count, dialog, errorBox, h, table, time, toast } from '../ui.js';

const DEFAULT_MESSAGE = 'Write operations are forbidden';

export function title() {
  return 'Write lock';
}

let watcher = null;

export function leave() {
  if (watcher) watcher.node.offChange(watcher.listener);
  watcher = null;
}

/** Someone else may lock or unlock meanwhile: the view follows the node's status. */
function follow(root, ctx, shown) {
  leave();
  const listener = (node) => {
    if (node.lock && (node.lock.write !== shown.write || node.lock.rejected_writes !== shown.rejected)) {
      show(root, null, ctx).catch(() => {});
    }
  };
  watcher = { node: ctx.node, listener };
  ctx.node.onChange(listener);
}

export async function show(root, _arg, ctx) {
  leave();
  const [state, history] = await Promise.all([
    api('GET', '/locks'),
    api('GET', '/locks/history').catch((e) => (e.status === 401 ? Promise.reject(e) : e)),
  ]);
  await ctx.refreshStatus();
  const locked = !!state.write;
  const toggle = h('button', {
    type: 'button', role: 'switch', 'aria-checked': locked ? 'true' : 'false', class: `switch ${locked ? 'on' : ''}`,
    'data-test': 'lock-toggle', onclick: () => (locked ? confirmUnlock(root, ctx) : confirmLock(root, ctx)),
  }, h('span', { class: 'knob' }));
  const rejected = ctx.node.lock ? ctx.node.lock.rejected_writes : undefined;
  root.replaceChildren(
    card('This node',
      h('div', { class: 'lock-state' },
        toggle,
        h('div', {},
          h('div', { class: 'lock-title', 'data-test': 'lock-state', 'data-locked': String(locked) },
            locked ? badge('Writes locked', 'warn') : state.disk_write_block ? badge('Manual lock off', 'muted') : badge('Writes open', 'good')),
          h('div', { class: 'muted', 'data-test': 'lock-message' },
            locked ? `Writes answer 403 "Storage locked: ${state.error_message || DEFAULT_MESSAGE}"`
              : state.disk_write_block ? 'The disk write block below refuses writes meanwhile.'
                : 'Creating collections and adding data are allowed.'))),
      state.disk_write_block ? diskBlock(state.disk_write_block) : null,
      h('p', { class: 'muted' }, 'Writes refused since start: ', h('span', { 'data-test': 'rejected-writes' }, count(rejected)),
        '. Reads, searches and deletes are never locked. The lock is per node and in memory: a restart starts unlocked.')),
    card('Changes since start',
      history instanceof ApiError
        ? errorBox(new Error(`History not available on this node: ${history.message}`))
        : historyTable(history)));
  follow(root, ctx, { write: locked, rejected });
}

/** The automatic disk write block: a separate cause (507), lifted by the node itself once space is back. */
function diskBlock(block) {
  return h('div', { class: 'error', 'data-test': 'disk-write-block' },
    h('strong', {}, 'Automatic disk write block (507): '), block.error_message || 'no space left on device',
    '. It lifts by itself once space is back; the toggle does not change it.');
}

function historyTable(history) {
  const rows = history.changes.slice().reverse().map((c) => h('tr', { 'data-test': 'history-row' },
    h('td', {}, time(c.time)),
    h('td', {}, `${c.previous.write ? 'locked' : 'unlocked'} → ${c.write ? 'locked' : 'unlocked'}`),
    h('td', {}, c.write ? (c.error_message || DEFAULT_MESSAGE) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'mono' }, c.client || 'event bus'),
    h('td', {}, { 'read-write': 'read-write key', none: 'no keys configured', unknown: 'not over REST' }[c.api_key] || c.api_key)));
  return h('div', {},
    table(['When', 'Change', 'Message', 'Client', 'Key'], rows, { 'data-test': 'history-table' }),
    history.forgotten ? h('p', { class: 'muted' }, `${history.forgotten} older changes are no longer kept.`) : null);
}

async function setLock(write, message, root, ctx) {
  await api('POST', '/locks', { write, error_message: message });
  toast(write ? 'Writes locked' : 'Writes unlocked', write ? 'warn' : 'good');
  await show(root, null, ctx);
}

function confirmLock(root, ctx) {
  const message = h('input', { class: 'input', 'data-test': 'lock-message-input', placeholder: DEFAULT_MESSAGE, maxlength: 500 });
  dialog({
    title: 'Lock writes on this node?',
    test: 'lock-dialog',
    body: [
      h('p', {}, 'Creating collections and adding data will be refused with 403 until you unlock. Writes in flight finish first.'),
      h('label', {}, 'Message for refused writes', message),
    ],
    confirm: {
      label: 'Lock writes',
      danger: true,
      requireCheck: 'I want to refuse writes on this node',
      onConfirm: () => setLock(true, message.value.trim() || null, root, ctx),
    },
  });
  message.focus();
}

function confirmUnlock(root, ctx) {
  dialog({
    title: 'Unlock writes on this node?',
    test: 'unlock-dialog',
    body: [h('p', {}, 'Creating collections and adding data will be accepted again.')],
    confirm: {
      label: 'Unlock writes',
      requireCheck: 'I want to accept writes again',
      onConfirm: () => setLock(false, null, root, ctx),
    },
  });
}
