import { LRUCache } from 'lru-cache';
import type { Executor } from './client.js';

/**
 * Short-lived caches of rarely changing rows (settings, policies, API keys) per database handle,
 * so every request does not re-read them. A write in this process evicts at once; other processes
 * see a change within the TTL. Transactions are never served from a cache: they read fresh.
 */
export function readCache<V extends object>(ttlMs: number, max = 1000) {
  const perDatabase = new WeakMap<object, LRUCache<string, V>>();
  const cacheOf = (db: Executor) => {
    let cache = perDatabase.get(db);
    if (!cache) {
      cache = new LRUCache<string, V>({ max, ttl: ttlMs });
      perDatabase.set(db, cache);
    }
    return cache;
  };
  return {
    async get(db: Executor, key: string, load: () => Promise<V>): Promise<V> {
      const cache = cacheOf(db);
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const value = await load();
      cache.set(key, value);
      return value;
    },
    evict(db: Executor, key?: string): void {
      if (key === undefined) cacheOf(db).clear();
      else cacheOf(db).delete(key);
    },
  };
}
