/**
 * Mutants read and judged equivalent (no behaviour a user could see changes) or not worth a test,
 * each with its reason. The runner reports them apart and leaves them out of the score, as
 * Stryker does with mutants marked ignored. A mutant is named by its file, its operator and the
 * original line (trimmed), so the entry survives unrelated edits that move the line.
 */
export interface KnownSurvivor {
  file: string;
  operator: string;
  line: string;
  reason: string;
}

export const KNOWN_SURVIVORS: KnownSurvivor[] = [
  {
    file: 'src/support/yielder.js',
    operator: '< → <=',
    line: 'if (now - since < budgetMs)',
    reason: 'equivalent: differs only when the elapsed time equals the budget to the microsecond',
  },
  {
    file: 'src/service/project-services.js',
    operator: '=== → !==',
    line: 'if (repositories.get(gitdir) === created)',
    reason: 'equivalent: the count made at open is made again by every acquire before its lease is handed out',
  },
  {
    file: 'src/service/project-services.js',
    operator: '|| → &&',
    line: 'if (held.leases > 0 || entries.get(held.key) !== held)',
    reason:
      'not worth a timing test: an idle timer set while other leases remain can only close a repository early (and only once no lease is left); closing an evicted entry again does nothing',
  },
  {
    file: 'src/service/project-services.js',
    operator: 'negate if',
    line: 'if (entry.idleTimer) {',
    reason:
      'not worth a timing test: a stale idle timer left on a re-acquired entry can only close it early, and only once no lease is left',
  },
  {
    file: 'src/git/archive/attributes.js',
    operator: '+ 1 → - 1',
    line: 'if (path.length < baselen + 1 || (baselen > 0 && path[baselen] !== SLASH) || !bytesEqual(path, 0, base, 0, baselen)) {',
    reason: 'equivalent: a path not longer than the base fails the separator or byte comparison that follows',
  },
  {
    file: 'src/git/archive/attributes.js',
    operator: '>= → >',
    line: 'if (i >= end)',
    reason: "equivalent: the one extra byte read is the line's own newline, never a quote, and the next turn returns null as before",
  },
  {
    file: 'src/git/pack-delta.js',
    operator: '=== → !==',
    line: 'if (++ops % STEP_OPS === 0)',
    reason: 'equivalent: the event loop gets more turns, the delta applied is the same (performance only)',
  },
  {
    file: 'src/git/refs.js',
    operator: '< → <=',
    line: 'if (now - Number(st.mtimeMs) < RACY_MS)',
    reason: 'equivalent: differs only for a stat time exactly RACY_MS old, to the millisecond',
  },
  {
    file: 'src/git/archive/archive-filter.js',
    operator: '< → <=',
    line: 'if (close < 0)',
    reason: "equivalent: the closing '$' is searched from pos + 3 > 0, so it is never found at 0",
  },
  {
    file: 'src/git/archive/attributes.js',
    operator: 'false → true',
    line: "{ name: 'diff', value: false },",
    reason: 'equivalent for archives: the binary macro\'s "diff" changes no archived byte (attributes that do not are compiled away)',
  },
  {
    file: 'src/git/pack-file.js',
    operator: '< → <=',
    line: 'if (compressed.length < THREADPOOL_BYTES)',
    reason: 'equivalent: where the inflate runs (inline or in the thread pool) at exactly the threshold, same bytes',
  },
  {
    file: 'src/git/archive/attributes.js',
    operator: '>= → >',
    line: 'if (blob.length >= ATTR_MAX_FILE_SIZE)',
    reason: 'not worth a test: a .gitattributes of exactly 100 MiB (git ignores it) would need a 100 MiB blob per run',
  },
  {
    file: 'src/xmod/pseudo-version.js',
    operator: '> → >=',
    line: 'if (dot > i) {',
    reason: "equivalent: a pseudo-version always has a '-' before its time stamp, so dot and i are never equal",
  },
  {
    file: 'src/xmod/semver.js',
    operator: '< → <=',
    line: 'return dx.length < dy.length ? -1 : 1;',
    reason: 'equivalent: the line above has just checked that the lengths differ',
  },
  {
    file: 'src/xmod/semver.js',
    operator: '+ 1 → - 1',
    line: 'const j = i + 1 + p.minor.length;',
    reason: 'equivalent: the slice is Go\'s allocation-free shortcut; the fallback below builds the same "vX.Y"',
  },
  {
    file: 'src/modfetch/code-repo.js',
    operator: '> → >=',
    line: "if (this.codeDir === '' && this.pathMajor === '' && semver.major(v) > 'v1')",
    reason: 'equivalent: with no /vN suffix, checkPathMajor fails only for v2 and above, so the major is never v1 here',
  },
  {
    file: 'src/zip/writer.js',
    operator: '>= → >',
    line: 'if (r.compressedSize >= MAX_U32)',
    reason: 'not worth a test: differs only for an entry of exactly 4 GiB - 1 compressed bytes, which needs a 4 GiB zip',
  },
  {
    file: 'src/zip/writer.js',
    operator: '>= → >',
    line: 'const zip64 = count >= MAX_U16 || directorySize >= MAX_U32 || directoryOffset >= MAX_U32;',
    reason: 'not worth a test: differs only when the central directory starts at exactly 4 GiB - 1, which needs a 4 GiB zip',
  },
  {
    file: 'src/zip/cache.js',
    operator: 'true → false',
    line: "signal?.addEventListener('abort', () => stream.destroy(), { once: true });",
    reason: 'equivalent: an AbortSignal fires its abort event once; once only lets the listener be collected sooner',
  },
  {
    file: 'src/zip/cache.js',
    operator: '> → >=',
    line: 'if (Date.now() - st.mtimeMs > STALE_TMP_MS)',
    reason: 'equivalent: differs only when a temporary file is stale to the exact millisecond',
  },
  {
    file: 'src/zip/cache-integrity.js',
    operator: '&& → ||',
    line: "const code = err instanceof Error && 'code' in err ? err.code : undefined;",
    reason: 'equivalent: only errors thrown by fs calls reach it, and those are always Error instances',
  },
  {
    file: 'src/zip/deflate-pool.js',
    operator: 'true → false',
    line: 'thread.worked = true;',
    reason:
      'not worth a test: a deflate thread that dies after working would hand its jobs to the threadpool instead of failing them; the bytes are the same, and killing a worker mid-build is not a state a test can reach without patching the pool',
  },
];
