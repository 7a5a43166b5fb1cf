import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { agents, apiKeys } from '../db/schema/index.js';
import { AppError } from '../http/errors.js';

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

export async function findPrincipal(db: Executor, key: string): Promise<Principal | null> {
  if (!key.startsWith(KEY_PREFIX) || key.length > 100) return null;
  const [row] = await db
    .select({ keyId: apiKeys.id, role: apiKeys.role, agentId: apiKeys.agentId })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashKey(key)), isNull(apiKeys.revokedAt)));
  return row ?? null;
}
