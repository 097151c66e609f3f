import fs from 'node:fs';
import path from 'node:path';
import { apiRoutes } from '../../src/http/api';
import { renderApiDocs } from '../../src/http/api-docs';

describe('the API documentation', () => {
  it('is derived from the route table and up to date (run `npm run docs`)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    expect(committed).toBe(renderApiDocs(apiRoutes));
  });

  it('documents every route with a summary and an action', () => {
    for (const r of apiRoutes) {
      expect(r.summary.length).toBeGreaterThan(10);
      expect(r.action).toBeTruthy();
    }
  });
});
