import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import JSZip from 'jszip';
import { ConfigError, InternalError, NotFoundError } from '../../../src/errors.js';
import { createNativeZipStream, type NativeZipEntry } from '../../../src/zip/writer.js';
import { IN_CI, missingTool } from '../../helpers/ci.js';

const run = promisify(execFile);

/** Lists a zip with Go's archive/zip; `read` also reads every entry, which checks CRC and size. */
const GO_LISTER = `package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
)

type entry struct {
	Name       string
	UTF8       bool
	Method     uint16
	CRC        uint32
	Size       uint64
	Compressed uint64
	SHA256     string
}

func main() {
	r, err := zip.OpenReader(os.Args[1])
	if err != nil {
		panic(err)
	}
	readAll := os.Args[2] == "read"
	out := json.NewEncoder(os.Stdout)
	for i, f := range r.File {
		e := entry{Name: f.Name, UTF8: f.Flags&0x800 != 0, Method: f.Method, CRC: f.CRC32, Size: f.UncompressedSize64, Compressed: f.CompressedSize64}
		if readAll || i == len(r.File)-1 {
			rc, err := f.Open()
			if err != nil {
				panic(err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, rc); err != nil {
				panic(f.Name + ": " + err.Error())
			}
			rc.Close()
			e.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		out.Encode(e)
	}
}
`;

interface GoEntry {
  Name: string;
  UTF8: boolean;
  Method: number;
  CRC: number;
  Size: number;
  Compressed: number;
  SHA256: string;
}

let workDir: string | null = null;
async function scratch(): Promise<string> {
  workDir ??= await mkdtemp(join(tmpdir(), 'native-zip-'));
  return workDir;
}

async function goList(zipPath: string, mode: 'read' | 'list'): Promise<GoEntry[]> {
  const dir = await scratch();
  const program = join(dir, 'zipls.go');
  await writeFile(program, GO_LISTER);
  const { stdout } = await run('go', ['run', program, zipPath, mode], {
    env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? join(dir, 'gocache') },
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as GoEntry);
}

async function hasCommand(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/** Go's reader is the reference; without go (outside CI) those tests are skipped, not failed. */
const needsGo = (await hasCommand('go')) || IN_CI ? {} : { skip: 'go is not installed (it is in CI)' };

function entriesOf(files: Record<string, Buffer>): NativeZipEntry[] {
  return Object.entries(files).map(([name, content]) => ({ name, read: async () => content }));
}

async function writeZip(name: string, entries: readonly NativeZipEntry[], options = {}): Promise<string> {
  const path = join(await scratch(), name);
  await pipeline(createNativeZipStream(entries, options), createWriteStream(path));
  return path;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Source-like text that deflates well (and fast, unlike a few words in random order). */
const compressibleCache = new Map<number, Buffer>();
function compressible(size: number): Buffer {
  let made = compressibleCache.get(size);
  if (!made) {
    const lines: string[] = [];
    let length = 0;
    for (let i = 0; length < size; i++) {
      const line = `func handler${i}(w http.ResponseWriter, r *http.Request) error { return fmt.Errorf("case %d", ${(i * 7919) % 10007}) }\n`;
      lines.push(line);
      length += line.length;
    }
    made = Buffer.from(lines.join('').slice(0, size));
    compressibleCache.set(size, made);
  }
  return made;
}

const mixed: Record<string, Buffer> = {
  'example.com/mod@v1.0.0/go.mod': Buffer.from('module example.com/mod\n\ngo 1.21\n'),
  'example.com/mod@v1.0.0/empty.txt': Buffer.alloc(0),
  'example.com/mod@v1.0.0/tiny': Buffer.from('x'),
  'example.com/mod@v1.0.0/ünïcödé/日本語.go': Buffer.from('package 日本語\n'.repeat(20)),
  'example.com/mod@v1.0.0/emoji-😀.txt': Buffer.from('smile\n'),
  'example.com/mod@v1.0.0/big/random.bin': randomBytes(10 * 1024 * 1024),
  'example.com/mod@v1.0.0/big/text.go': compressible(10 * 1024 * 1024),
  'example.com/mod@v1.0.0/also-empty': Buffer.alloc(0),
};

test('native zip: Go archive/zip reads back every name, size, CRC and byte', needsGo, async () => {
  const path = await writeZip('mixed.zip', entriesOf(mixed));
  const listed = await goList(path, 'read');
  assert.deepEqual(
    listed.map((e) => e.Name),
    Object.keys(mixed),
  );
  for (const e of listed) {
    const content = mixed[e.Name]!;
    assert.equal(e.Size, content.length, e.Name);
    assert.equal(e.CRC, zlib.crc32(content), e.Name);
    assert.equal(e.SHA256, sha256(content), e.Name);
    assert.equal(e.UTF8, /[^\x00-\x7f]/.test(e.Name), `${e.Name}: UTF-8 flag`);
  }
  const byName = new Map(listed.map((e) => [e.Name, e]));
  // Incompressible and tiny content is stored; text is deflated.
  assert.equal(byName.get('example.com/mod@v1.0.0/big/random.bin')!.Method, 0);
  assert.equal(byName.get('example.com/mod@v1.0.0/tiny')!.Method, 0);
  assert.equal(byName.get('example.com/mod@v1.0.0/empty.txt')!.Method, 0);
  const text = byName.get('example.com/mod@v1.0.0/big/text.go')!;
  assert.equal(text.Method, 8);
  assert.ok(text.Compressed < text.Size / 2, 'text deflates');
});

test('native zip: unzip -t passes and unzip -p returns the bytes', async (t) => {
  if (!(await hasCommand('unzip'))) {
    t.skip(missingTool('unzip'));
    return;
  }
  const path = await writeZip('mixed-unzip.zip', entriesOf(mixed));
  const { stdout } = await run('unzip', ['-t', path], { maxBuffer: 16 * 1024 * 1024 });
  assert.match(stdout, /No errors detected/);
  for (const name of ['example.com/mod@v1.0.0/go.mod', 'example.com/mod@v1.0.0/big/text.go']) {
    const { stdout: bytes } = await run('unzip', ['-p', path, name], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    assert.ok(bytes.equals(mixed[name]!), name);
  }
});

test('native zip: jszip reads it back too', async () => {
  const path = await writeZip('mixed-jszip.zip', entriesOf(mixed));
  const zip = await JSZip.loadAsync(await readFile(path));
  for (const [name, content] of Object.entries(mixed)) {
    const file = zip.file(name);
    assert.ok(file, name);
    assert.ok((await file.async('nodebuffer')).equals(content), name);
  }
});

test('native zip: output is deterministic', async () => {
  const collect = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of createNativeZipStream(entriesOf(mixed))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  assert.ok((await collect()).equals(await collect()));
});

test('native zip: deflate contexts reused across many entries stay exact', needsGo, async () => {
  const files: Record<string, Buffer> = {};
  const text = compressible(300 * 1024);
  for (let i = 0; i < 400; i++) files[`m@v1.0.0/f${i}.go`] = text.subarray(i * 7, i * 7 + 64 + ((i * 2654435761) % 200_000));
  const path = await writeZip('reuse.zip', entriesOf(files), { concurrency: 3 });
  const listed = await goList(path, 'read');
  assert.equal(listed.length, 400);
  for (const e of listed) {
    assert.equal(e.Method, 8, e.Name);
    assert.equal(e.SHA256, sha256(files[e.Name]!), e.Name);
  }
});

test('native zip: an empty entry list is a valid empty zip', needsGo, async () => {
  const path = await writeZip('empty.zip', []);
  assert.equal((await readFile(path)).length, 22);
  assert.deepEqual(await goList(path, 'read'), []);
});

test('native zip: 70,000 entries use Zip64 end records and read back', needsGo, async (t) => {
  const count = 70_000;
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const content = Buffer.from(`file ${i}\n`);
    entries.push({ name: `m@v1.0.0/d${i % 100}/f${i}.txt`, read: async () => content });
  }
  const path = await writeZip('many.zip', entries);
  const bytes = await readFile(path);
  assert.equal(bytes.readUInt32LE(bytes.length - 22), 0x06054b50);
  assert.equal(bytes.readUInt16LE(bytes.length - 22 + 10), 0xffff, 'EOCD count saturates');
  assert.equal(bytes.readUInt32LE(bytes.length - 42), 0x07064b50, 'Zip64 locator precedes the EOCD');
  const listed = await goList(path, 'read');
  assert.equal(listed.length, count);
  assert.equal(listed[count - 1]!.Name, `m@v1.0.0/d${(count - 1) % 100}/f${count - 1}.txt`);
  assert.equal(listed[12345]!.SHA256, sha256(Buffer.from('file 12345\n')));
  if (await hasCommand('unzip')) {
    const { stdout } = await run('unzip', ['-t', '-q', path], { maxBuffer: 64 * 1024 * 1024 });
    assert.match(stdout, /No errors detected/);
  } else {
    t.diagnostic('no unzip on PATH; Go alone checked the Zip64 records');
  }
});

test('native zip: offsets past 4 GiB get Zip64 extras (sparse file)', needsGo, async () => {
  // 17 stored entries of 256 MiB of zeros push later local headers past 4 GiB. The chunks that
  // are the shared zero buffer are skipped on write, so the file on disk stays sparse.
  const zeros = Buffer.alloc(256 * 1024 * 1024);
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < 17; i++) entries.push({ name: `m@v1.0.0/zero${i}`, read: async () => zeros });
  entries.push({ name: 'm@v1.0.0/last.txt', read: async () => Buffer.from('the end\n') });
  const path = join(await scratch(), 'huge.zip');
  const fh = await open(path, 'w');
  let position = 0;
  try {
    await pipeline(
      createNativeZipStream(entries, { level: 0 }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          const at = position;
          position += chunk.length;
          if (chunk === zeros) return callback();
          fh.write(chunk, 0, chunk.length, at).then(() => callback(), callback);
        },
      }),
    );
    await fh.truncate(position);
  } finally {
    await fh.close();
  }
  assert.ok(position > 2 ** 32);
  const listed = await goList(path, 'list');
  assert.equal(listed.length, 18);
  assert.equal(listed[16]!.Size, zeros.length);
  // Go reads the last entry through its Zip64 header offset and checks its CRC.
  assert.equal(listed[17]!.SHA256, sha256(Buffer.from('the end\n')));
  await rm(path);
});

test('native zip: a slow consumer bounds read-ahead by count and bytes', async () => {
  let started = 0;
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < 40; i++) {
    entries.push({
      name: `f${i}`,
      read: async () => {
        started++;
        return compressible(1024 * 1024);
      },
    });
  }
  const stream = createNativeZipStream(entries, { concurrency: 6, maxBytesInFlight: 4 * 1024 * 1024 });
  stream.pause();
  stream.read(0); // ask for data once, then stop consuming
  await new Promise((r) => setTimeout(r, 1000));
  // The window (6) plus what fits the readable's 64 KiB buffer: each entry deflates to ~60 KB.
  assert.ok(started <= 8, `started ${started} reads for a stalled consumer`);
  const before = started;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(started, before, 'nothing more is read while nobody consumes');
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  assert.equal(started, 40);
  assert.ok(bytes > 0);
});

test('native zip: destroying mid-stream aborts pending reads and starts nothing new', async () => {
  let started = 0;
  let aborted = 0;
  let settledAfterAbort = 0;
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < 100; i++) {
    entries.push({
      name: `f${i}`,
      read: (signal) => {
        started++;
        if (i < 3) return Promise.resolve(compressible(256 * 1024));
        // Later entries never finish on their own: only the abort settles them.
        return new Promise((_resolve, reject) => {
          signal!.addEventListener('abort', () => {
            aborted++;
            settledAfterAbort++;
            reject(new Error('read aborted'));
          });
        });
      },
    });
  }
  const controller = new AbortController();
  const stream = createNativeZipStream(entries, { concurrency: 4, signal: controller.signal });
  let received = 0;
  let error: unknown = null;
  stream.on('error', (err) => {
    error = err;
  });
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  // Not events.once: it rejects on the 'error' the abort causes.
  const closed = new Promise((resolve) => stream.once('close', resolve));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(received > 0, 'the first entries were written');
  const startedBefore = started;
  controller.abort();
  await closed;
  assert.equal(aborted, startedBefore - 3, 'every pending read saw the abort');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(started, startedBefore, 'no read started after the abort');
  assert.equal(settledAfterAbort, aborted);
  assert.ok(stream.destroyed);
  assert.equal((error as Error | null)?.name, 'AbortError', 'the stream fails with the abort reason');
});

test('native zip: destroy while deflates run leaves no zlib work behind', async () => {
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < 50; i++) entries.push({ name: `f${i}`, read: async () => compressible(2 * 1024 * 1024) });
  const stream = createNativeZipStream(entries, { concurrency: 8 });
  stream.resume();
  await new Promise((r) => setTimeout(r, 30));
  stream.destroy();
  await once(stream, 'close');
  await new Promise((r) => setTimeout(r, 500));
  const leftover = process.getActiveResourcesInfo().filter((r) => /zlib/i.test(r));
  assert.deepEqual(leftover, []);
});

test('native zip: small entries leave in few large chunks', async () => {
  const entries: NativeZipEntry[] = [];
  for (let i = 0; i < 2000; i++) entries.push({ name: `m@v1.0.0/f${i}.go`, read: async () => compressible(1024 + i) });
  let chunks = 0;
  let bytes = 0;
  for await (const chunk of createNativeZipStream(entries)) {
    chunks++;
    bytes += (chunk as Buffer).length;
  }
  // ~2 pushes per entry would be 4,000 writes downstream (socket, cache file).
  assert.ok(chunks < bytes / 16_000, `${chunks} chunks for ${bytes} bytes`);
});

test('native zip: a failing read destroys the stream with an internal error naming the entry', async () => {
  const cause = new Error('object missing');
  const entries: NativeZipEntry[] = [
    { name: 'ok', read: async () => Buffer.from('fine') },
    { name: 'broken/file.go', read: async () => Promise.reject(cause) },
  ];
  await assert.rejects(pipeline(createNativeZipStream(entries), new Writable({ write: (_c, _e, cb) => cb() })), (err: unknown) => {
    assert.ok(err instanceof InternalError);
    assert.equal(err.message, 'zip: cannot read entry broken/file.go');
    assert.equal(err.op, 'zip.read');
    assert.equal(err.cause, cause);
    return true;
  });
});

test("native zip: a reader's own error family member is kept, not wrapped", async () => {
  const missing = new NotFoundError('object gone');
  const entries: NativeZipEntry[] = [{ name: 'a', read: async () => Promise.reject(missing) }];
  await assert.rejects(
    pipeline(createNativeZipStream(entries), new Writable({ write: (_c, _e, cb) => cb() })),
    (err: unknown) => err === missing,
  );
});

test('native zip: bad options fail at creation', () => {
  assert.throws(() => createNativeZipStream([], { level: 11 }), ConfigError);
  assert.throws(() => createNativeZipStream([], { concurrency: 0 }), ConfigError);
});

test.after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
