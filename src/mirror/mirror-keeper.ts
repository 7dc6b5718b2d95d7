import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { fetchMirror, MirrorFetchError } from './mirror-fetch.js';
import { MIRROR_DEFAULTS, type Upstream, upstreamHost } from './upstream-options.js';

/**
 * Keeps mirrors fresh on demand: one fetch per mirror at a time however many requests ask
 * (single-flight), and a request waits for it only a bounded time before answering from what the
 * mirror has. A failed fetch is logged (project id and upstream host, never the URL's path or a
 * secret) and the mirror keeps serving what it had.
 */

export interface MirroredProject {
  id: number | string;
  gitdir: string;
  upstream: Upstream;
}

export interface MirrorKeeperOptions {
  logger: Logger;
  waitMs?: number;
  idleTimeoutMs?: number;
  minFreeBytes?: number;
  now?: () => number;
}

export interface MirrorKeeper {
  /** Refreshes the mirror when it is older than its refreshSeconds (or missing); waits at most waitMs (a missing mirror: until the first fetch ends). */
  fresh(project: MirroredProject): Promise<void>;
  /** Refreshes now (joining a fetch already running); waits at most waitMs, or not at all with `wait: false`. */
  refresh(project: MirroredProject, options?: { wait?: boolean }): Promise<void>;
  /** Resolves once every running fetch has ended. */
  idle(): Promise<void>;
  /**
   * The background scheduler: every `intervalMs`, each project `projects()` returns (read anew
   * each time, so a reload is followed) is fetched when older than its refreshSeconds, without
   * anyone waiting. Returns the function that stops it.
   */
  schedule(projects: () => readonly MirroredProject[], intervalMs: number): () => void;
}

interface MirrorState {
  /** When the last fetch ended (success or failure): failures are not retried on every request. */
  checkedAt: number;
  running: Promise<void> | null;
}

async function exists(gitdir: string): Promise<boolean> {
  try {
    await access(path.join(gitdir, 'packed-refs'));
    return true;
  } catch {
    return false;
  }
}

export function createMirrorKeeper(options: MirrorKeeperOptions): MirrorKeeper {
  const { logger } = options;
  const waitMs = options.waitMs ?? MIRROR_DEFAULTS.waitMs;
  const now = options.now ?? Date.now;
  const states = new Map<string, MirrorState>();

  function stateOf(gitdir: string): MirrorState {
    let state = states.get(gitdir);
    if (!state) {
      state = { checkedAt: Number.NEGATIVE_INFINITY, running: null };
      states.set(gitdir, state);
    }
    return state;
  }

  function start(project: MirroredProject): Promise<void> {
    const state = stateOf(project.gitdir);
    if (state.running) return state.running;
    const started = now();
    const log = { op: 'mirror', project: project.id, upstream: upstreamHost(project.upstream) };
    state.running = fetchMirror(project.gitdir, project.upstream, {
      idleTimeoutMs: options.idleTimeoutMs ?? MIRROR_DEFAULTS.idleTimeoutMs,
      minFreeBytes: options.minFreeBytes ?? MIRROR_DEFAULTS.minFreeBytes,
    })
      .then(
        (result) => {
          const fields = { ...log, changed: result.changed, refs: result.refs, packBytes: result.packBytes, ms: now() - started };
          if (result.changed) logger.info(fields, 'mirror fetched');
          else logger.debug(fields, 'mirror up to date');
        },
        (err: unknown) => {
          const reason = err instanceof MirrorFetchError ? err.reason : 'protocol';
          const message = err instanceof MirrorFetchError ? err.message : 'the fetch failed';
          logger.warn({ ...log, reason, ms: now() - started }, `mirror fetch failed, serving what the mirror has: ${message}`);
        },
      )
      .finally(() => {
        state.checkedAt = now();
        state.running = null;
      });
    return state.running;
  }

  async function waitBounded(job: Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  return {
    async fresh(project) {
      const state = stateOf(project.gitdir);
      const maxAge = (project.upstream.refreshSeconds ?? MIRROR_DEFAULTS.refreshSeconds) * 1000;
      if (!state.running && now() - state.checkedAt < maxAge) return;
      const job = start(project);
      // Nothing to answer from yet: the first clone is waited for (it ends, the fetch has an idle timeout).
      if (!(await exists(project.gitdir))) return job;
      return waitBounded(job, waitMs);
    },
    async refresh(project, { wait = true } = {}) {
      const job = start(project);
      if (wait) await waitBounded(job, waitMs);
    },
    async idle() {
      await Promise.all([...states.values()].map((s) => s.running));
    },
    schedule(projects, intervalMs) {
      const timer = setInterval(() => {
        for (const project of projects()) {
          const state = stateOf(project.gitdir);
          const maxAge = (project.upstream.refreshSeconds ?? MIRROR_DEFAULTS.refreshSeconds) * 1000;
          if (!state.running && now() - state.checkedAt >= maxAge) void start(project);
        }
      }, intervalMs);
      // The scheduler alone never keeps the process alive.
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
