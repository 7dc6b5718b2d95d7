import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createProjectServices, type ProjectServices, type ServedProject } from '../../../src/service/project-services.js';
import { FifoSlots } from '../../../src/support/fifo-slots.js';
import { makeBareRepository, makeTempDir } from '../../http/fixtures.js';

/**
 * The global limit on concurrent zip builds (cache.maxConcurrentBuilds): never more builds than
 * the limit, the rest wait first come first served and still complete, and a client that leaves
 * while queued leaves the queue. Builds are held open by readers that stop after one chunk: a
 * 2 MB incompressible file keeps each build from finishing into its buffers.
 */

const PREFIX = 'gitlab.example.com';
const MODULE = `${PREFIX}/group/big`;
let temp: { dir: string; remove(): Promise<void> };
let project: ServedProject;

before(async () => {
  temp = await makeTempDir('gitlab-go-proxy-build-limit-');
  const gitdir = path.join(temp.dir, 'big.git');
  const big = randomBytes(1536 * 1024).toString('base64');
  await makeBareRepository(gitdir, [
    { date: '2024-01-10T10:00:00Z', files: { 'go.mod': `module ${MODULE}\n\ngo 1.19\n`, 'big.txt': big }, tag: 'v1.0.0' },
  ]);
  project = { id: 1, fullPath: 'group/big', gitdir };
});

after(() => temp.remove());

/** Opens a build and reads one chunk of it, then stops reading (the slot stays held). */
interface Held {
  stream: Readable;
  /** Set by drain: read to the end. */
  draining: boolean;
  firstChunk: Promise<void>;
  chunks: Buffer[];
}

async function openHeld(services: ProjectServices, signal?: AbortSignal): Promise<Held> {
  const lease = await services.acquire(project);
  const stream = (await lease.service.zip(MODULE, 'v1.0.0')).open(signal);
  stream.once('close', () => lease.release());
  stream.on('error', () => {});
  const chunks: Buffer[] = [];
  const held: Held = { stream, draining: false, chunks, firstChunk: Promise.resolve() };
  held.firstChunk = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      if (chunks.push(chunk) === 1) {
        if (!held.draining) stream.pause();
        resolve();
      }
    });
  });
  return held;
}

async function drain(held: Held): Promise<Buffer> {
  const { stream, chunks } = held;
  held.draining = true;
  const ended = stream.readableEnded ? Promise.resolve() : once(stream, 'end');
  stream.resume();
  await ended;
  return Buffer.concat(chunks);
}

describe('the global limit on concurrent zip builds', () => {
  test('no more than maxConcurrentBuilds run; the rest queue in order and complete; an aborted waiter leaves the queue', async () => {
    // No disk cache: every request is a build of its own.
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { maxConcurrentBuilds: 2 } });
    try {
      let peak = 0;
      const sample = (): void => {
        peak = Math.max(peak, services.stats().zipBuilds?.running ?? 0);
      };
      const held = [];
      for (let i = 0; i < 6; i++) held.push(await openHeld(services));
      const started: number[] = [];
      held.forEach((h, i) => {
        h.firstChunk.then(() => {
          started.push(i);
          sample();
        });
      });
      await Promise.all([held[0]!.firstChunk, held[1]!.firstChunk]);
      // Give the queued ones every chance to start if the limit did not hold.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(services.stats().zipBuilds, { running: 2, queued: 4, limit: 2 });

      // A client that leaves while queued leaves the queue.
      const controller = new AbortController();
      const leaving = await openHeld(services, controller.signal);
      leaving.stream.resume();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(services.stats().zipBuilds?.queued, 5);
      const closed = new Promise((resolve) => leaving.stream.once('close', resolve));
      controller.abort();
      await closed;
      assert.equal(services.stats().zipBuilds?.queued, 4);

      // Drained one after another: each freed slot goes to the oldest waiter.
      const zips: Buffer[] = [];
      for (const h of held) {
        sample();
        zips.push(await drain(h));
      }
      // Arrival order among the queued is FifoSlots' promise (below); here, the first two ran first and every one ran.
      assert.deepEqual(started.slice(0, 2).sort(), [0, 1]);
      assert.deepEqual([...started].sort(), [0, 1, 2, 3, 4, 5]);
      assert.ok(peak <= 2, `peak of ${peak} concurrent builds`);
      assert.equal(peak, 2);
      for (const zip of zips) assert.ok(zip.equals(zips[0]!), 'every queued build completes with the same bytes');
      assert.ok(zips[0]!.length > 1024 * 1024);
      assert.deepEqual(services.stats().zipBuilds, { running: 0, queued: 0, limit: 2 });
    } finally {
      await services.close();
    }
  });

  test('with a disk cache, clients of one cold zip share one build (one slot) and all complete', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { dir: path.join(temp.dir, 'cache'), maxConcurrentBuilds: 1 } });
    try {
      const held = [];
      for (let i = 0; i < 3; i++) held.push(await openHeld(services));
      await Promise.all(held.map((h) => h.firstChunk));
      // The shared build writes to disk whatever its readers do: at most its one slot, never one per client.
      assert.equal(services.stats().zipBuilds?.queued, 0);
      const zips = await Promise.all(held.map((h) => drain(h)));
      for (const zip of zips) assert.ok(zip.equals(zips[0]!));
    } finally {
      await services.close();
    }
  });
});

describe('FifoSlots', () => {
  test('grants in arrival order, passes a freed slot to the oldest waiter, and drops aborted waiters', async () => {
    const slots = new FifoSlots(1);
    const order: string[] = [];
    const first = await slots.acquire();
    const controller = new AbortController();
    const b = slots.acquire().then((release) => {
      order.push('b');
      return release;
    });
    const aborted = slots.acquire(controller.signal);
    const c = slots.acquire().then((release) => {
      order.push('c');
      return release;
    });
    assert.equal(slots.waiting, 3);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.equal(slots.waiting, 2);
    first();
    first(); // a second release is a no-op
    (await b)();
    (await c)();
    assert.deepEqual(order, ['b', 'c']);
    assert.equal(slots.running, 0);
    assert.throws(() => {
      void slots.acquire(AbortSignal.abort());
    });
  });
});
