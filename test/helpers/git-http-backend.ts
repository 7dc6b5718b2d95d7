import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real git smart-HTTP server for tests and benchmarks: `git http-backend` run as a CGI program
 * per request behind a small node:http server with basic auth, as a git host would run it. The
 * test can stop it (connections refused), change the password, or cut the next upload-pack
 * answers after some bytes (an interrupted fetch).
 */
export interface GitHttpServer {
  /** `http://127.0.0.1:PORT`; repositories are under `/<name>.git` relative to `root`. */
  url: string;
  /** Requests answered so far, by kind: `info/refs` discoveries and `git-upload-pack` posts. */
  counts: { discover: number; uploadPack: number };
  /** Cuts the connection after this many bytes of each upload-pack answer, until reset with null. */
  cutUploadPackAfter(bytes: number | null): void;
  /** Stops listening (and drops open connections); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** GIT_PROJECT_ROOT: the folder holding the bare repositories. */
  root: string;
  /** Basic-auth credentials every request must carry; none: anonymous. */
  auth?: { username: string; password: string };
  port?: number;
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const counts = { discover: 0, uploadPack: 0 };
  let cutAfter: number | null = null;
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
        res.end('unauthorized\n');
        req.resume();
        return;
      }
    }
    const isUploadPack = req.method === 'POST' && url.pathname.endsWith('/git-upload-pack');
    if (url.pathname.endsWith('/info/refs')) counts.discover++;
    if (isUploadPack) counts.uploadPack++;
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: options.root,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] && { CONTENT_LENGTH: req.headers['content-length'] }),
        ...(req.headers['content-encoding'] && { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }),
        ...(req.headers['git-protocol'] && { GIT_PROTOCOL: String(req.headers['git-protocol']) }),
        REMOTE_USER: options.auth?.username ?? '',
        REMOTE_ADDR: '127.0.0.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headersDone = false;
    let sent = 0;
    const limit = isUploadPack ? cutAfter : null;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (!headersDone) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        chunk = head.subarray(end + 4);
      }
      if (limit !== null && sent + chunk.length > limit) {
        res.write(chunk.subarray(0, Math.max(0, limit - sent)));
        cgi.kill();
        res.socket?.destroy();
        return;
      }
      sent += chunk.length;
      res.write(chunk);
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let port = options.port ?? 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    cutUploadPackAfter(bytes) {
      cutAfter = bytes;
    },
    stop,
    start: listen,
    close: stop,
  };
}
