// `pnpm --filter @airbyte-ci/release-rehearsal rehearse [--keep]`: the rehearsal the test runs,
// printing what was published (tarball contents and sizes) and how long each step took.
import { rehearse } from "./rehearsal.ts";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const result = await rehearse({ keep: process.argv.includes("--keep") });
for (const published of Object.values(result.published)) {
  const unpacked = published.files.reduce((sum, file) => sum + file.size, 0);
  console.log(`\n${published.name}@${published.version}: ${kib(published.tarballBytes)} packed, ${kib(unpacked)} unpacked, ${published.files.length} files`);
  console.log(`  dependencies: ${JSON.stringify(published.manifest.dependencies ?? {})}`);
  for (const file of published.files) console.log(`  ${kib(file.size).padStart(10)}  ${file.path}`);
}
console.log(`\nstranger: typescript ${result.stranger.typescriptVersion}; broken hook: ${result.stranger.brokenTypecheck.stdout.trim()}`);
console.log(`\nspec of ${result.stranger.image}: ${result.stranger.spec.stdout.trim().slice(0, 120)}…`);
console.log("\ntimings:");
for (const { step, seconds } of result.timings) console.log(`${String(seconds).padStart(7)} s  ${step}`);
