import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { agents, apiKeys } from '../db/schema/index.js';
import { AppError } from '../http/errors.js';
import { readCache } from '../db/read-cache.js';

export type Role = 'agent' | 'ops' | 'admin';

export interface Principal {
  keyId: string;
  role: Role;
  agentId: string | null;
}

const KEY_PREFIX = 'sc_';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export async function createApiKey(
  db: Executor,
  input: { role: Role; name: string; agentId?: string | null },
): Promise<{ id: string; key: string; role: Role; name: string; agentId: string | null }> {
  const agentId = input.agentId ?? null;
  if (input.role === 'agent' && !agentId) {
    throw new AppError('validation_failed', 'an agent key must be bound to an agent', {
      errors: [{ path: 'agentId', message: 'required for role agent' }],
    });
  }
  if (agentId) {
    const [agent] = await db.select({ id: agents.id }).from(agents).where(eq(agents.id, agentId));
    if (!agent) {
      throw new AppError('validation_failed', `no agent ${agentId}`, {
        errors: [{ path: 'agentId', message: 'unknown agent' }],
      });
    }
  }
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiKeys)
    .values({ name: input.name, role: input.role, agentId, keyHash: hashKey(key), keyPrefix: key.slice(0, 10) })
    .returning({ id: apiKeys.id });
  return { id: row!.id, key, role: input.role, name: input.name, agentId };
}

/** A revoked key stops working here at once and in other processes within this TTL. */
const principals = readCache<{ principal: Principal | null }>(5000, 10_000);

export async function findPrincipal(db: Executor, key: string): Promise<Principal | null> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 100) return null;
  const keyHash = hashKey(key);
  const { principal } = await principals.get(db, keyHash, async () => {
    const [row] = await db
      .select({ keyId: apiKeys.id, role: apiKeys.role, agentId: apiKeys.agentId })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
    return { principal: row ?? null };
  });
  return principal;
}

export async function revokeApiKey(db: Executor, id: string): Promise<boolean> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ keyHash: apiKeys.keyHash });
  if (row) principals.evict(db, row.keyHash);
  return row !== undefined;
}
