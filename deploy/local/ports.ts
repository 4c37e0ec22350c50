import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports already handed out by this process: each is closed again before its server binds it. */
const handedOut = new Set<number>();

/**
 * A free loopback port, confirmed by the OS (we listen on it, then close).
 *
 * Not `listen(0)`: that returns a port from Linux's ephemeral range, which the
 * kernel also uses as the source port of outgoing connections. An instance or
 * the replica that is stopped and started again on its port (kill -9 tests,
 * replica outage tests) could then find it taken by one of nginx's or
 * PgBouncer's upstream connections. Ports below that range are only ever
 * taken by an explicit bind.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.min(20_000, low - 2_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${floor} and ${low}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low > 2_000 && high >= low) return [low, high];
  } catch {
    // Not Linux: fall back to the IANA dynamic range's start.
  }
  return [49_152, 65_535];
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
