// build.mjs bundles the dashboard's scripts into dashboard/static/dist, which
// the Go binary embeds. Run it with `npm ci && npm run build` from the
// repository root. Only the ECharts chart types and components that
// dashboard/web/src/charts.js registers end up in the bundle.
import { build } from 'esbuild';
import { mkdir, readdir, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const out = path.join(root, 'dashboard', 'static', 'dist');
const budget = 300 * 1024; // gzipped bytes of JavaScript shipped

// Clear previous output but keep the committed placeholder.
await mkdir(out, { recursive: true });
for (const name of await readdir(out)) {
  if (name !== 'README.txt') {
    await rm(path.join(out, name), { recursive: true, force: true });
  }
}

await build({
  entryPoints: {
    charts: path.join(here, 'src', 'charts.js'),
    upload: path.join(here, 'src', 'upload.js'),
  },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  metafile: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

let total = 0;
for (const name of (await readdir(out)).sort()) {
  if (!name.endsWith('.js')) {
    continue;
  }
  const body = await readFile(path.join(out, name));
  const gz = gzipSync(body, { level: 9 }).length;
  total += gz;
  console.log(`${name}: ${body.length} bytes, ${gz} gzipped`);
}
console.log(`total gzipped JavaScript: ${total} bytes (budget ${budget})`);
if (total > budget) {
  console.error('the JavaScript bundle is over budget');
  process.exit(1);
}
await writeFile(path.join(out, 'BUILD.txt'), `built by dashboard/web/build.mjs; gzipped js ${total} bytes\n`);
