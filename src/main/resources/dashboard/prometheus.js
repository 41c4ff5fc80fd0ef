// Parses Prometheus' text exposition format into samples {name, labels, value}.

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of an unlabelled metric, or undefined. */
export function scalar(samples, name) {
  const s = samples.find((x) => x.name === name);
  return s ? s.value : undefined;
}

/** A labelled metric's values by one label ({Active: 4, Dead: 1} for `state`), or undefined when absent. */
export function byLabel(samples, name, label) {
  const found = samples.filter((x) => x.name === name);
  return found.length ? Object.fromEntries(found.map((x) => [x.labels[label], x.value])) : undefined;
}
