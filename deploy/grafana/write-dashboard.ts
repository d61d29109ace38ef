/** Writes deploy/grafana/quarry.json from dashboard.ts: `npm run dashboard`. */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboard } from './dashboard.js';

// compiled to dist/deploy/grafana: the source folder is three levels up, then deploy/grafana
const out = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'deploy', 'grafana', 'quarry.json');
writeFileSync(out, `${JSON.stringify(dashboard, null, 2)}\n`);
console.log(`wrote ${out}`);
