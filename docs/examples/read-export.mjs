// Reads a Collate Parquet export with hyparquet, a Parquet reader written in
// JavaScript that shares no code with DuckDB, and prints two of the answers
// of docs/interop.md as JSON:
//
//   node docs/examples/read-export.mjs collate-export/
//
// The export's partition keys (nation, region, year) live in the directory
// names, as Hive partitioning writes them; this reader takes them from there.
// ingest/federate's TestReadByJavaScript checks its answers against the
// store the export came from.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

// rows reads every Parquet file under dir/table, adding the key=value
// directory names of its path as columns.
async function rows(dir, table) {
  const out = []
  const walk = async (path, keys) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) {
        const [k, v] = entry.name.split('=')
        await walk(full, v === undefined ? keys : { ...keys, [k]: v })
      } else if (entry.name.endsWith('.parquet')) {
        const b = readFileSync(full)
        const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
        for (const row of await parquetReadObjects({ file, compressors })) {
          out.push({ ...row, ...keys })
        }
      }
    }
  }
  await walk(join(dir, table), {})
  return out
}

const dir = process.argv[2] ?? 'collate-export'
const reviews = await rows(dir, 'reviews')
const factors = await rows(dir, 'episode_factors')

// Current reviews by nation, region and year.
const current = new Map()
const byPlace = new Map()
for (const r of reviews) {
  if (r.status !== 'current') continue
  current.set(`${r.review_id}\u0000${r.version}`, r)
  const key = `${r.nation}|${r.region}|${r.year}`
  byPlace.set(key, (byPlace.get(key) ?? 0) + 1)
}

// Factors that made problematic practice more likely, by region, in reviews.
const problematic = new Map()
for (const f of factors) {
  const r = current.get(`${f.review_id}\u0000${f.version}`)
  if (!r || f.influence !== 'made_problematic_more_likely') continue
  const key = `${r.region}|${f.code}`
  if (!problematic.has(key)) problematic.set(key, new Set())
  problematic.get(key).add(r.review_id)
}

const sorted = (m, value) => [...m].map(([k, v]) => `${k}|${value(v)}`).sort()
console.log(JSON.stringify({
  'reviews by nation, region and year': sorted(byPlace, (n) => n),
  'problematic factors by region': sorted(problematic, (s) => s.size),
}, null, 2))
