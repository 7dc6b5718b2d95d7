import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * The config file's `monitoring` section: who may read `/metrics` and the health endpoints, and
 * how long readiness says "shutting down" before the server stops accepting connections.
 */

/** Loopback only, as GitLab's health checks default to (its `monitoring.ip_whitelist`). */
export const DEFAULT_MONITORING_ALLOW: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** An address (`10.0.0.7`, `::1`) or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
const AddressOrBlock = z.string().refine((text) => parseBlock(text) !== null, {
  error: 'expected an IP address or a CIDR block such as 10.0.0.0/8 or fd00::/8',
});

/** OpenTelemetry tracing, off unless configured: where the spans go and the service name they carry. */
export const TracingConfigSchema = z.strictObject({
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:4318/v1/traces' }),
  /** `service.name` of the spans. Defaults to gitlab-go-proxy. */
  serviceName: z.string().min(1).default('gitlab-go-proxy'),
});
export type TracingConfig = z.output<typeof TracingConfigSchema>;

export const MonitoringConfigSchema = z.strictObject({
  /** Client addresses that may read `/metrics`, `/-/health`, `/-/liveness`, `/-/readiness`. Defaults to loopback. */
  allow: z.array(AddressOrBlock).default([...DEFAULT_MONITORING_ALLOW]),
  /**
   * SHA-256 hex digest of a token that opens them from any address (`Authorization: Bearer <token>`,
   * or `?token=` as GitLab's health checks take it). Defaults to none.
   */
  tokenSha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "expected the 64 hex digits of the token's SHA-256 digest")
    .transform((hex) => hex.toLowerCase())
    .optional(),
  /**
   * On SIGTERM/SIGINT, readiness answers 503 for this long while everything else is still served,
   * so that a load balancer stops sending requests before connections are refused. Defaults to 0.
   */
  drainSeconds: z.number().min(0).max(300).default(0),
  /** `false` registers no metric at all and `/metrics` answers 404. Defaults to true. */
  metrics: z.boolean().default(true),
  /** Sends OpenTelemetry spans (request, auth, refs, cache, plan, build) to a collector. Defaults to off. */
  tracing: TracingConfigSchema.optional(),
});
export type MonitoringConfig = z.output<typeof MonitoringConfigSchema>;

function parseBlock(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A matcher for client addresses; IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) match as IPv4. */
export function createAddressMatcher(allow: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of allow) {
    const block = parseBlock(entry);
    if (block) list.addSubnet(block.address, block.prefix, block.family);
  }
  return (address) => {
    if (address === undefined) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const plain = mapped ?? address;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}
