export * from './staff.js';
export * from './config.js';
export * from './callbacks.js';
export * from './customers.js';
export * from './infra.js';
export * from './verification.js';
export * from './webhooks.js';
export * from './ops.js';
