import { z } from 'zod';

/**
 * The standalone server's flood bounds (`server.limits`): how long a connection may take to send
 * its request, how many connections one address and everyone together may hold, how large the
 * request line and headers may be, and how many refused credentials an address may present
 * before it is told to wait. Defaults bound one client to a small share of the process.
 */

const Seconds = z.number().positive();

export const AuthFailureLimitSchema = z.strictObject({
  /** Refused credentials an address may present per window before its credentialed requests get 429. Defaults to 30 (GitLab's fail2ban default). */
  max: z.number().int().positive().default(30),
  /** The window, in seconds, counted from the address's first refusal in it. Defaults to 60. */
  windowSeconds: Seconds.default(60),
});
export type AuthFailureLimit = z.output<typeof AuthFailureLimitSchema>;

export const ServerLimitsSchema = z.strictObject({
  /** Failed-authentication limiting per client address; `false` turns it off. On by default. */
  authFailures: z.union([z.literal(false), AuthFailureLimitSchema]).prefault({}),
  /** A connection must send a request's headers within this many seconds (Node's `headersTimeout`). Defaults to 10. */
  headersTimeoutSeconds: Seconds.default(10),
  /** A connection must send a whole request within this many seconds (Node's `requestTimeout`; not the response). Defaults to 30. */
  requestTimeoutSeconds: Seconds.default(30),
  /** A kept-alive connection with no request is closed after this many seconds (Node's `keepAliveTimeout`). Defaults to 5. */
  keepAliveTimeoutSeconds: Seconds.default(5),
  /**
   * A connection whose response has started and that moves no byte for this many seconds is
   * closed (a client that stopped reading). A response still being built (a cold zip) is not cut. Defaults to 60.
   */
  idleTimeoutSeconds: Seconds.default(60),
  /** Open connections from one client address; more are closed on accept. Defaults to 256. */
  maxConnectionsPerAddress: z.number().int().positive().default(256),
  /** Open connections in all; more are closed on accept (Node's `maxConnections`). Defaults to 4096. */
  maxConnections: z.number().int().positive().default(4096),
  /** Bytes of request line plus headers (Node's `maxHeaderSize`); larger requests get 431. Defaults to 16384. */
  maxHeaderBytes: z.number().int().min(1024).default(16_384),
});
export type ServerLimits = z.output<typeof ServerLimitsSchema>;

/**
 * Express's `trust proxy`: false (the socket's address is the client's), true (the leftmost
 * `X-Forwarded-For` entry), a number of proxy hops, or the proxies' addresses/subnets.
 */
export const TrustProxySchema = z
  .union([z.boolean(), z.number().int().min(0), z.string().min(1), z.array(z.string().min(1)).min(1)])
  .default(false);
