import { z } from 'zod';
import type { ApiRoute } from './route';

/**
 * The API documentation, derived from the route table (never written by hand, so it cannot drift): for each route its
 * method, path, summary, the secured action, the scope, and the JSON Schema of its query and body.
 */
function schemaOf(schema: z.ZodType | undefined): string | null {
  if (!schema) return null;
  try {
    return JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), null, 2);
  } catch {
    return null;
  }
}

function scopeText(route: ApiRoute): string {
  const s = route.scope;
  if (s.kind === 'structure') return '`:sid` must be one of the user\'s schools (else 404)';
  if (s.kind === 'record') return `the ${s.table} \`:${s.param ?? 'id'}\` must belong to one of the user's schools (else 404)`;
  return "the user's own schools";
}

export function renderApiDocs(routes: ApiRoute[], prefix = '/reservations/api/v1'): string {
  const lines: string[] = [
    '# JSON API reference',
    '',
    '<!-- Generated from src/http/api/*.ts by `npm run docs`; test/unit/api-docs.test.ts fails when it is out of date. -->',
    '',
    `Base path: \`${prefix}\`. Signed in by the host's session cookie; every mutation carries \`X-CSRF-Token\` (from`,
    '`GET /session`). Errors: `{ "error": code, "message": text in the user\'s language, "details"? }` with 400 (invalid',
    'input, `details.fields` names each field), 401, 403, 404 (also another school\'s data), 409 (conflict), 413, 422',
    '(a state change the rules refuse).',
    '',
    '| method | path | action | summary |',
    '| --- | --- | --- | --- |',
  ];
  for (const r of routes) {
    const action = Array.isArray(r.action) ? r.action.join(' or ') : r.action;
    lines.push(`| ${r.method.toUpperCase()} | \`${r.path}\` | \`${action}\` | ${r.summary.replace(/\|/g, '\\|')} |`);
  }
  for (const r of routes) {
    const action = Array.isArray(r.action) ? r.action.map((a) => `\`${a}\``).join(' or ') : `\`${r.action}\``;
    lines.push('', `## ${r.method.toUpperCase()} ${r.path}`, '', r.summary, '', `- Needs: ${action}${r.service ? ` (service \`${r.service}\` switched on)` : ''}`, `- Scope: ${scopeText(r)}`);
    lines.push(`- Success: ${r.status ?? (r.method === 'get' ? 200 : 200)}`);
    const query = schemaOf(r.query);
    if (query) lines.push('', 'Query:', '', '```json', query, '```');
    const body = schemaOf(r.body);
    if (body) lines.push('', 'Body:', '', '```json', body, '```');
    if (r.example !== undefined) lines.push('', 'Example body:', '', '```json', JSON.stringify(r.example, null, 2), '```');
  }
  return lines.join('\n') + '\n';
}
