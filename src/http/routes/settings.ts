import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import {
  CallingSettingsSchema,
  OfficialNumbersSchema,
  loadSetting,
  saveSetting,
} from '../../services/settings.js';

export function settingsRouter() {
  return createRouter()
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/settings/calling',
        tags: ['settings'],
        summary: 'Calling rules: legal hours, center hours, frequency caps',
        responses: { 200: jsonResponse(CallingSettingsSchema, 'Calling settings') },
      }),
      async (c) => c.json(await loadSetting(c.var.deps.db, 'calling'), 200),
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'put',
        path: '/settings/calling',
        tags: ['settings'],
        summary: 'Replace the calling rules',
        request: { body: jsonBody(CallingSettingsSchema) },
        responses: { 200: jsonResponse(CallingSettingsSchema, 'Calling settings') },
      }),
      async (c) => {
        const value = c.req.valid('json');
        await saveSetting(c.var.deps.db, 'calling', value);
        return c.json(value, 200);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/settings/official-numbers',
        tags: ['settings'],
        summary: 'The numbers the company calls from',
        responses: { 200: jsonResponse(OfficialNumbersSchema, 'Official numbers') },
      }),
      async (c) => c.json(await loadSetting(c.var.deps.db, 'official_numbers'), 200),
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'put',
        path: '/settings/official-numbers',
        tags: ['settings'],
        summary: 'Replace the official numbers',
        request: { body: jsonBody(OfficialNumbersSchema) },
        responses: { 200: jsonResponse(OfficialNumbersSchema, 'Official numbers') },
      }),
      async (c) => {
        const value = c.req.valid('json');
        await saveSetting(c.var.deps.db, 'official_numbers', value);
        return c.json(value, 200);
      },
    );
}
