// A small line chart in inline SVG: a few series over the same time axis, y from 0 to a rounded max.

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 200;
const PAD = { left: 52, right: 12, top: 12, bottom: 24 };

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function label(v) {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`;
  if (v >= 10 || v === 0) return v.toFixed(0);
  return v.toPrecision(2);
}

/**
 * @param series [{name, cls, points: [[timeMs, value|null], ...]}]
 * @param windowMs the time span the x axis shows, ending now
 */
export function lineChart(series, { windowMs, unit = '' } = {}) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  const now = Date.now();
  const t0 = now - windowMs;
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null && Number.isFinite(v));
  const max = niceMax(Math.max(0, ...values));
  const x = (t) => PAD.left + ((t - t0) / windowMs) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f);
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: 'grid' }));
    root.append(svg('text', { x: PAD.left - 6, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, `${label(max * f)}${unit}`));
  }
  root.append(svg('text', { x: PAD.left, y: H - 6, class: 'axis' }, `-${Math.round(windowMs / 60000)} min`));
  root.append(svg('text', { x: W - PAD.right, y: H - 6, class: 'axis', 'text-anchor': 'end' }, 'now'));
  for (const s of series) {
    // a gap (null) splits the line rather than drawing it down to zero
    let run = [];
    const flush = () => {
      if (run.length > 1) root.append(svg('polyline', { points: run.join(' '), class: `line ${s.cls}` }));
      if (run.length === 1) root.append(svg('circle', { cx: run[0].split(',')[0], cy: run[0].split(',')[1], r: 2, class: `dot ${s.cls}` }));
      run = [];
    };
    for (const [t, v] of s.points) {
      if (t < t0) continue;
      if (v === null || !Number.isFinite(v)) flush();
      else run.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    }
    flush();
  }
  return root;
}

export function legend(series) {
  const el = document.createElement('div');
  el.className = 'legend';
  for (const s of series) {
    const item = document.createElement('span');
    item.className = `legend-item ${s.cls}`;
    item.textContent = s.name;
    el.append(item);
  }
  return el;
}
