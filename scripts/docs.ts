import fs from 'node:fs';
import path from 'node:path';
import { apiRoutes } from '../src/http/api';
import { renderApiDocs } from '../src/http/api-docs';

const file = path.join(__dirname, '..', 'docs', 'api.md');
fs.writeFileSync(file, renderApiDocs(apiRoutes));
console.log(`wrote ${path.relative(process.cwd(), file)} (${apiRoutes.length} routes)`);
