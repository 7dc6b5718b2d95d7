import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from '../../../src/support/lru-cache.js';
import { MemoryPool } from '../../../src/support/memory-pool.js';

// The bounds are promises of the memory budget: never above it, and not needlessly below it.

test('LruCache keeps an entry that costs exactly the bound, and refuses one above it', () => {
  const cache = new LruCache<string, number>(10, (v) => v);
  cache.set('exact', 10);
  assert.equal(cache.get('exact'), 10);
  cache.set('over', 11);
  assert.equal(cache.has('over'), false);
  assert.equal(cache.cost, 10);
});

test('LruCache fills to exactly its bound before evicting, oldest (least recently read) first', () => {
  const cache = new LruCache<string, number>(3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a'), 1); // a is now the newest
  cache.set('d', 4);
  assert.deepEqual(
    ['a', 'b', 'c', 'd'].map((k) => cache.has(k)),
    [true, false, true, true],
  );
  assert.equal(cache.get('b'), undefined);
});

test('LruCache delete and re-set keep the cost exact', () => {
  const cache = new LruCache<string, Buffer>(100, (b) => b.length);
  cache.set('a', Buffer.alloc(40));
  cache.set('a', Buffer.alloc(30));
  assert.equal(cache.cost, 30);
  cache.delete('a');
  cache.delete('never-there');
  assert.equal(cache.cost, 0);
  assert.equal(cache.size, 0);
  cache.set('b', Buffer.alloc(60));
  cache.set('c', Buffer.alloc(40));
  assert.equal(cache.cost, 100);
  cache.clear();
  assert.equal(cache.cost, 0);
});

test('MemoryPool keeps an entry of exactly its bound and fills to it before evicting', () => {
  const pool = new MemoryPool(100);
  const view = pool.cache<Buffer>((b) => b.length);
  view.set('whole', Buffer.alloc(100));
  assert.equal(view.has('whole'), true);
  view.set('half1', Buffer.alloc(50));
  view.set('half2', Buffer.alloc(50));
  assert.equal(view.has('whole'), false);
  assert.equal(view.get('half1')?.length, 50);
  assert.equal(view.get('half2')?.length, 50);
  assert.equal(pool.bytes, 100);
  view.set('too-big', Buffer.alloc(101));
  assert.equal(view.has('too-big'), false);
  assert.equal(view.get('missing'), undefined);
});

test('MemoryPool views share one order and one bound; clearing a view drops only its entries', () => {
  const pool = new MemoryPool(3);
  const a = pool.cache<string>(() => 1);
  const b = pool.cache<string>(() => 1);
  a.set('k', 'a1'); // the same key in two views: two entries
  b.set('k', 'b1');
  a.set('k2', 'a2');
  assert.equal(pool.size, 3);
  assert.equal(a.get('k'), 'a1'); // a/k is now newer than b/k
  b.set('k2', 'b2'); // evicts the oldest: b/k
  assert.equal(b.has('k'), false);
  assert.equal(a.has('k'), true);
  a.clear();
  assert.equal(a.size, 0);
  assert.equal(b.size, 1);
  assert.equal(pool.bytes, 1);
  b.delete('k2');
  b.delete('k2');
  assert.equal(pool.bytes, 0);
});

test('MemoryPool reservations push cached entries out, and a release counts once however often it is called', () => {
  const pool = new MemoryPool(100);
  const view = pool.cache<Buffer>((b) => b.length);
  view.set('x', Buffer.alloc(60));
  const release = pool.reserve(50);
  assert.equal(view.has('x'), false, 'the entry made room for the reservation');
  assert.equal(pool.reserved, 50);
  view.set('y', Buffer.alloc(51)); // with 50 reserved, 51 does not fit
  assert.equal(view.has('y'), false);
  view.set('z', Buffer.alloc(50));
  assert.equal(view.has('z'), true);
  release();
  release();
  assert.equal(pool.reserved, 0);
  assert.equal(pool.bytes, 50);
});

test('a pool of 0 bytes is disabled and keeps nothing; any other pool is enabled', () => {
  const off = new MemoryPool(0).cache<string>(() => 1);
  assert.equal(off.enabled, false);
  off.set('a', 'x');
  assert.equal(off.size, 0);
  assert.equal(new MemoryPool(1).cache<string>(() => 1).enabled, true);
});
