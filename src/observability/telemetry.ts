/**
 * What the module services report as they work, for metrics. The label values are fixed sets
 * named here, never client input (a module path or a version would make every scrape unbounded).
 */

/** Caches looked up on the way to an answer: zips on disk, go.mod files in memory, version pins. */
export type CacheArtifact = 'zip' | 'mod' | 'pin';

/** How a zip build ended: written to the end, stopped because every client left, or failed. */
export type ZipBuildOutcome = 'built' | 'aborted' | 'failed';

export interface ZipBuildReport {
  outcome: ZipBuildOutcome;
  seconds: number;
  /** Bytes written before it ended. */
  bytes: number;
}

export interface ServiceTelemetry {
  cacheLookup(artifact: CacheArtifact, hit: boolean): void;
  zipBuild(report: ZipBuildReport): void;
}

/** The default: reports nothing, costs one call. */
export const silentTelemetry: ServiceTelemetry = { cacheLookup: () => {}, zipBuild: () => {} };
