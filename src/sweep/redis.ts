import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for the sweep queue. ioredis retries a lost connection forever by default, so a
 * wrong URL would hang a sweep silently: here the first contact is a bounded check that fails within
 * seconds with the address and the reason, and long-lived connections give up after a bounded
 * reconnect window and report it.
 */

export const DEFAULT_QUEUE_NAME = 'laconic-runs';
export const DEFAULT_PREFIX = 'laconic';

/** ioredis options from redis://[user:pass@]host:port[/db] (rediss:// for TLS). */
export function redisOptions(url: string): RedisOptions & { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${JSON.stringify(url)}: not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue ${url}: expected a redis:// or rediss:// URL`);
  if (!u.hostname) throw new Error(`--queue ${url}: no host`);
  const port = u.port ? Number(u.port) : 6379;
  const dbPart = u.pathname.replace(/^\//, '');
  if (dbPart && !/^\d+$/.test(dbPart)) throw new Error(`--queue ${url}: the path must be a database number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: dbPart ? Number(dbPart) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Connect once, PING, disconnect; throws a clear error within `timeoutMs`. */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const opts = redisOptions(url);
  const client = new Redis({
    ...opts,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  let lastError: Error | null = null;
  client.on('error', (e: Error) => {
    lastError = e;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    const reason = (lastError as Error | null)?.message ?? (e as Error).message;
    throw new Error(`cannot reach Redis at ${displayUrl(url)}: ${reason}`, { cause: e });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

export interface ConnectionOptions {
  /** Give up after reconnecting for about this long (default 30 s). */
  reconnectS?: number;
  /** Called once when the connection is given up. */
  onFatal: (err: Error) => void;
}

/**
 * A connection for BullMQ (which requires maxRetriesPerRequest: null for its blocking commands).
 * BullMQ duplicates it for its blocking client; the duplicates share the bounded retry strategy.
 */
export function bullConnection(url: string, opts: ConnectionOptions): Redis {
  const reconnectMs = (opts.reconnectS ?? 30) * 1000;
  let firstFailure = 0;
  let fatal = false;
  const client = new Redis({
    ...redisOptions(url),
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times: number) => {
      const now = Date.now();
      if (times === 1 || firstFailure === 0) firstFailure = now;
      if (now - firstFailure > reconnectMs) {
        if (!fatal) {
          fatal = true;
          opts.onFatal(new Error(`lost the connection to Redis at ${displayUrl(url)} and could not reconnect within ${Math.round(reconnectMs / 1000)} s`));
        }
        return null;
      }
      return Math.min(200 * times, 2000);
    },
  });
  client.on('ready', () => {
    firstFailure = 0;
  });
  // Errors during reconnects are expected; the retry strategy decides when they become fatal.
  client.on('error', () => {});
  return client;
}
