import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../src/logger.js';
import type { ServerLimits } from '../src/server-limits-config.js';

/** Options for `http(s).createServer` that only take effect there: header size and how often timeouts are checked. */
export function serverCreationOptions(limits: ServerLimits): http.ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    // Node checks headersTimeout and requestTimeout on this interval (30 s by default), which would
    // let a slow-header socket live that much longer than configured.
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutSeconds * 250),
  };
}

/**
 * Bounds what one client can hold: timeouts for sending a request and for idling, and caps on
 * open connections per address and in all. Connections beyond a cap are closed as soon as they
 * are accepted, before a byte is read, and logged once per address per burst.
 */
export function applyConnectionLimits(server: http.Server, limits: ServerLimits, logger: Logger): void {
  server.headersTimeout = limits.headersTimeoutSeconds * 1000;
  server.requestTimeout = limits.requestTimeoutSeconds * 1000;
  server.keepAliveTimeout = limits.keepAliveTimeoutSeconds * 1000;
  server.maxConnections = limits.maxConnections;

  const perAddress = new Map<string, number>();
  const refusedAddresses = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > limits.maxConnectionsPerAddress) {
      if (!refusedAddresses.has(address)) {
        refusedAddresses.add(address);
        logger.warn(
          { op: 'connection', address, limit: limits.maxConnectionsPerAddress },
          'connections refused: too many from this address',
        );
      }
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    // Node's headersTimeout starts at the first byte: a socket that sends nothing would live until requestTimeout.
    const silent = setTimeout(() => socket.destroy(), limits.headersTimeoutSeconds * 1000);
    silent.unref();
    socket.once('data', () => clearTimeout(silent));
    socket.once('close', () => {
      clearTimeout(silent);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else {
        perAddress.delete(address);
        refusedAddresses.delete(address);
      }
    });
  });

  // A socket that moves no byte for idleTimeout: cut it if its response has started (the client
  // stopped reading) or it has no request at all; keep it while a response is still being built.
  const building = new WeakMap<Socket, http.ServerResponse>();
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    // A client that reset the connection before its request was parsed leaves no socket here.
    if (res.socket) building.set(res.socket as Socket, res);
  });
  server.setTimeout(limits.idleTimeoutSeconds * 1000, (socket: Socket) => {
    const res = building.get(socket);
    if (res && !res.headersSent && !res.writableEnded) return;
    socket.destroy();
  });
}
