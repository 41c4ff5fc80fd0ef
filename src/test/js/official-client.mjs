// Drives a Quiver node with Qdrant's official JavaScript REST client (@qdrant/js-client-rest):
// the calls a Qdrant user's application makes, each answer checked. Run by OfficialClientIT:
//   [QDRANT_API_KEY=key] node official-client.mjs http://127.0.0.1:PORT
// Prints one line per step and "official client: N steps passed"; exits 1 on the first failure.
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.argv[2];
if (!url) {
  console.error('usage: node official-client.mjs URL');
  process.exit(2);
}
// The client is 1.18 and Quiver serves Qdrant's 1.15 API: the client's version check would only warn.
const apiKey = process.env.QDRANT_API_KEY || undefined;
const client = new QdrantClient({ url, apiKey, checkCompatibility: false });
const name = 'official_client';
let steps = 0;

async function step(what, fn) {
  try {
    await fn();
    steps++;
    console.log(`ok   ${what}`);
  } catch (e) {
    console.log(`FAIL ${what}: ${e?.stack ?? e}`);
    if (e?.data) console.log(JSON.stringify(e.data));
    process.exit(1);
  }
}

/** The error a refused call throws, with Qdrant's envelope. */
async function refused(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail('the call was not refused');
}

async function postLocks(body) {
  const headers = { 'content-type': 'application/json', ...(apiKey ? { 'api-key': apiKey } : {}) };
  const r = await fetch(`${url}/locks`, { method: 'POST', headers, body: JSON.stringify(body) });
  assert.equal(r.status, 200);
  return (await r.json()).result;
}

const cities = ['Berlin', 'London', 'Paris', 'Madrid'];
const points = Array.from({ length: 40 }, (_, i) => ({
  id: i + 1,
  vector: {
    image: [1, (i % 7) + 1, (i % 3) + 0.5, 1],
    text: { indices: [i % 5, 10 + (i % 4)], values: [1, 0.5 + (i % 3)] },
  },
  payload: { city: cities[i % 4], rank: i + 1, tags: i % 2 ? ['a', 'b'] : ['c'] },
}));

await step('versionInfo answers Qdrant\'s title', async () => {
  const v = await client.versionInfo();
  assert.equal(v.title, 'qdrant - vector search engine');
  assert.match(v.version, /^1\.15\./);
});

if (apiKey) {
  await step('a wrong API key gets 401', async () => {
    const stranger = new QdrantClient({ url, apiKey: `${apiKey}-wrong`, checkCompatibility: false });
    const e = await refused(() => stranger.getCollections());
    assert.equal(e.status, 401);
  });
}

await step('createCollection with a named dense and a sparse vector', async () => {
  if ((await client.collectionExists(name)).exists) await client.deleteCollection(name);
  assert.equal(await client.createCollection(name, {
    vectors: { image: { size: 4, distance: 'Cosine' } },
    sparse_vectors: { text: {} },
  }), true);
  assert.equal((await client.collectionExists(name)).exists, true);
  const names = (await client.getCollections()).collections.map((c) => c.name);
  assert.ok(names.includes(name));
});

await step('createPayloadIndex keyword and integer', async () => {
  const a = await client.createPayloadIndex(name, { field_name: 'city', field_schema: 'keyword', wait: true });
  assert.equal(a.status, 'completed');
  await client.createPayloadIndex(name, { field_name: 'rank', field_schema: 'integer', wait: true });
  const info = await client.getCollection(name);
  assert.equal(info.payload_schema.city.data_type, 'keyword');
  assert.equal(info.payload_schema.rank.data_type, 'integer');
});

await step('upsert 40 points and count them', async () => {
  const r = await client.upsert(name, { wait: true, points });
  assert.equal(r.status, 'completed');
  assert.equal((await client.count(name, { exact: true })).count, 40);
  const info = await client.getCollection(name);
  assert.equal(info.points_count, 40);
  assert.equal(info.status, 'green');
});

await step('retrieve with payload and vectors', async () => {
  const got = await client.retrieve(name, { ids: [3, 999], with_payload: true, with_vector: true });
  assert.equal(got.length, 1);
  assert.equal(got[0].id, 3);
  assert.deepEqual(got[0].payload, points[2].payload);
  assert.deepEqual(got[0].vector.text, points[2].vector.text);
  assert.equal(got[0].vector.image.length, 4);
});

await step('scroll with a filter, pages and order_by', async () => {
  const filter = { must: [{ key: 'city', match: { value: 'Paris' } }] };
  const first = await client.scroll(name, { filter, limit: 6, with_payload: true });
  assert.equal(first.points.length, 6);
  assert.ok(first.points.every((p) => p.payload.city === 'Paris'));
  const rest = await client.scroll(name, { filter, limit: 100, offset: first.next_page_offset });
  assert.equal(first.points.length + rest.points.length, 10);
  const ordered = await client.scroll(name, { limit: 3, order_by: { key: 'rank', direction: 'desc' }, with_payload: true });
  assert.deepEqual(ordered.points.map((p) => p.payload.rank), [40, 39, 38]);
});

await step('search a named vector with a filter and a threshold', async () => {
  const hits = await client.search(name, {
    vector: { name: 'image', vector: [1, 7, 2.5, 1] },
    score_threshold: 0.5,
    filter: { must: [{ key: 'rank', range: { gte: 10 } }], must_not: [{ key: 'city', match: { any: ['Madrid'] } }] },
    limit: 5,
    with_payload: ['city', 'rank'],
  });
  assert.equal(hits.length, 5);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
  assert.ok(hits.every((h) => h.payload.rank >= 10 && h.payload.city !== 'Madrid'));
  assert.ok(hits[0].score > 0.99 && hits.every((h) => h.score >= 0.5));
});

await step('searchBatch and a sparse search', async () => {
  const [a, b] = await client.searchBatch(name, {
    searches: [
      { vector: { name: 'image', vector: [1, 1, 1, 1] }, limit: 3 },
      { vector: { name: 'text', vector: { indices: [2, 11], values: [1, 1] } }, limit: 3 },
    ],
  });
  assert.equal(a.length, 3);
  assert.equal(b.length, 3);
  assert.ok(b[0].score >= b[2].score);
});

await step('query: nearest, prefetch with RRF fusion, recommend by id', async () => {
  const nearest = await client.query(name, { query: [1, 7, 2.5, 1], using: 'image', limit: 3 });
  assert.equal(nearest.points.length, 3);
  const fused = await client.query(name, {
    prefetch: [
      { query: [1, 2, 0.5, 1], using: 'image', limit: 10 },
      { query: { indices: [1, 12], values: [1, 1] }, using: 'text', limit: 10 },
    ],
    query: { fusion: 'rrf' },
    limit: 5,
  });
  assert.equal(fused.points.length, 5);
  const rec = await client.query(name, { query: { recommend: { positive: [1, 2], negative: [3] } }, using: 'image', limit: 4 });
  assert.equal(rec.points.length, 4);
  assert.ok(rec.points.every((p) => ![1, 2, 3].includes(p.id)));
});

await step('queryGroups and facet', async () => {
  const groups = await client.queryGroups(name, { query: [1, 1, 1, 1], using: 'image', group_by: 'city', limit: 4, group_size: 2 });
  assert.equal(groups.groups.length, 4);
  assert.ok(groups.groups.every((g) => g.hits.length === 2));
  const facet = await client.facet(name, { key: 'city', exact: true });
  assert.deepEqual(facet.hits.map((h) => h.count), [10, 10, 10, 10]);
});

await step('recommend and searchMatrixPairs', async () => {
  const rec = await client.recommend(name, { positive: [5], using: 'image', limit: 3, strategy: 'best_score' });
  assert.equal(rec.length, 3);
  const pairs = await client.searchMatrixPairs(name, { sample: 10, limit: 2, using: 'image' });
  assert.equal(pairs.pairs.length, 20);
});

await step('discoverPoints, queryBatch, searchPointGroups, searchMatrixOffsets', async () => {
  const found = await client.discoverPoints(name, {
    target: 10, context: [{ positive: 11, negative: 12 }], using: 'image', limit: 3,
  });
  assert.equal(found.length, 3);
  const batch = await client.queryBatch(name, {
    searches: [{ query: 10, using: 'image', limit: 2 }, { query: { indices: [3], values: [1] }, using: 'text', limit: 2 }],
  });
  assert.equal(batch.length, 2);
  assert.ok(batch.every((r) => r.points.length === 2));
  const groups = await client.searchPointGroups(name, {
    vector: { name: 'image', vector: [1, 2, 3, 4] }, group_by: 'tags', limit: 3, group_size: 1,
  });
  assert.deepEqual(groups.groups.map((g) => g.id).sort(), ['a', 'b', 'c']);
  const offsets = await client.searchMatrixOffsets(name, { sample: 5, limit: 2, using: 'image' });
  assert.equal(offsets.ids.length, 5);
  assert.equal(offsets.offsets_row.length, 10);
});

await step('updateCollection and deletePayloadIndex', async () => {
  assert.equal(await client.updateCollection(name, { optimizers_config: { indexing_threshold: 20000 } }), true);
  const info = await client.getCollection(name);
  assert.equal(info.config.optimizer_config.indexing_threshold, 20000);
  await client.createPayloadIndex(name, { field_name: 'tags', field_schema: 'keyword', wait: true });
  await client.deletePayloadIndex(name, 'tags', { wait: true });
  assert.equal((await client.getCollection(name)).payload_schema.tags, undefined);
});

await step('payload: set, overwrite, delete keys, clear', async () => {
  await client.setPayload(name, { payload: { extra: true }, points: [1, 2], wait: true });
  await client.overwritePayload(name, { payload: { city: 'Oslo' }, points: [3], wait: true });
  await client.deletePayload(name, { keys: ['tags'], points: [4], wait: true });
  await client.clearPayload(name, { points: [5], wait: true });
  const got = await client.retrieve(name, { ids: [1, 3, 4, 5], with_payload: true });
  const byId = Object.fromEntries(got.map((p) => [p.id, p.payload]));
  assert.equal(byId[1].extra, true);
  assert.deepEqual(byId[3], { city: 'Oslo' });
  assert.equal(byId[4].tags, undefined);
  assert.deepEqual(byId[5], {});
});

await step('vectors: update and delete a named vector', async () => {
  await client.updateVectors(name, { points: [{ id: 6, vector: { image: [0, 0, 0, 1] } }], wait: true });
  await client.deleteVectors(name, { points: [7], vector: ['text'], wait: true });
  const [six, seven] = await client.retrieve(name, { ids: [6, 7], with_vector: true });
  assert.equal(six.vector.image[3], 1);
  assert.equal(seven.vector.text, undefined);
});

await step('batchUpdate of several operations', async () => {
  const r = await client.batchUpdate(name, {
    wait: true,
    operations: [
      { upsert: { points: [{ id: 100, vector: { image: [1, 2, 3, 4] }, payload: { city: 'Rome' } }] } },
      { set_payload: { payload: { batch: 1 }, points: [100] } },
      { delete: { points: [40] } },
    ],
  });
  assert.equal(r.length, 3);
  const [p] = await client.retrieve(name, { ids: [100], with_payload: true });
  assert.deepEqual(p.payload, { city: 'Rome', batch: 1 });
  assert.equal((await client.count(name, { exact: true })).count, 40);
});

await step('collectionClusterInfo shows the one local shard', async () => {
  const info = await client.collectionClusterInfo(name);
  assert.equal(info.shard_count, 1);
  assert.equal(info.local_shards[0].points_count, 40);
  assert.equal(info.local_shards[0].state, 'Active');
  assert.deepEqual(info.remote_shards, []);
});

await step('aliases', async () => {
  await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: `${name}_alias` } }] });
  const aliases = (await client.getCollectionAliases(name)).aliases;
  assert.deepEqual(aliases, [{ alias_name: `${name}_alias`, collection_name: name }]);
  assert.equal((await client.count(`${name}_alias`, { exact: true })).count, 40);
});

await step('full snapshots: create, list, delete', async () => {
  const snap = await client.createFullSnapshot({ wait: true });
  assert.ok((await client.listFullSnapshots()).some((s) => s.name === snap.name));
  assert.equal(await client.deleteFullSnapshot(snap.name), true);
});

await step('snapshots: create, list, delete', async () => {
  const snap = await client.createSnapshot(name, { wait: true });
  assert.match(snap.name, /\.snapshot$/);
  assert.ok((await client.listSnapshots(name)).some((s) => s.name === snap.name));
  assert.equal(await client.deleteSnapshot(name, snap.name), true);
});

await step('the write lock refuses writes with its message, allows search and deletes', async () => {
  await postLocks({ write: true, error_message: 'maintenance by the official client test' });
  try {
    const e = await refused(() => client.upsert(name, { wait: true, points: [{ id: 200, vector: { image: [1, 1, 1, 1] } }] }));
    assert.equal(e.status, 403);
    assert.match(e.data.status.error, /maintenance by the official client test/);
    assert.equal((await client.search(name, { vector: { name: 'image', vector: [1, 1, 1, 1] }, limit: 1 })).length, 1);
    await client.delete(name, { points: [39], wait: true });
  } finally {
    await postLocks({ write: false });
  }
  assert.equal((await client.count(name, { exact: true })).count, 39);
});

await step('bad input answers Qdrant\'s envelope and changes nothing', async () => {
  const e = await refused(() => client.upsert(name, { wait: true, points: [{ id: 300, vector: { image: [1, 2] } }] }));
  assert.equal(e.status, 400);
  assert.match(e.data.status.error, /dimension/i);
  const missing = await refused(() => client.getCollection('no_such_collection'));
  assert.equal(missing.status, 404);
  assert.equal((await client.count(name, { exact: true })).count, 39);
});

await step('delete points by filter, then the collection', async () => {
  await client.delete(name, { filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] }, wait: true });
  const left = await client.count(name, { exact: true, filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] } });
  assert.equal(left.count, 0);
  assert.equal(await client.deleteCollection(name), true);
  assert.equal((await client.collectionExists(name)).exists, false);
});

console.log(`official client: ${steps} steps passed`);
