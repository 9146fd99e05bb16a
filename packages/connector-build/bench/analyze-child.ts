// Child process of the analyze benchmark: one fresh process per repetition, so time and peak memory
// are those of a cold `analyzeRepository` call (module loading done before the clock starts).
// Prints one JSON line on stdout.
import { analyzeRepository } from "@airbyte-ci/connector-build";

const root = process.argv[2];
if (!root) {
  process.stderr.write("usage: analyze-child.ts <root>\n");
  process.exit(2);
}

const maxRssBeforeKiB = process.resourceUsage().maxRSS;
const rssBefore = process.memoryUsage().rss;
// Sampled RSS while the analysis runs (only between event-loop turns, so a lower bound of the peak);
// the kernel's high-water mark (getrusage maxRSS) is the real peak.
let sampledPeak = rssBefore;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
}, 2);
const started = performance.now();
const report = await analyzeRepository(root);
const ms = performance.now() - started;
clearInterval(sampler);
const maxRssKiB = process.resourceUsage().maxRSS;
sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);

// A second call in the same process: warm JIT and warm module state, for comparison.
const warmStarted = performance.now();
await analyzeRepository(root);
const warmMs = performance.now() - warmStarted;

process.stdout.write(
  `${JSON.stringify({
    ms,
    warmMs,
    maxRssKiB,
    maxRssBeforeKiB,
    rssBeforeBytes: rssBefore,
    sampledPeakRssBytes: sampledPeak,
    scanned: report.scanned,
    selected: report.selected,
    variants: report.variants.map((v) => ({ id: v.id, count: v.count, example: v.example.connector, baseImages: v.baseImages })),
    withoutDockerfile: report.withoutDockerfile.length,
    unreadable: report.unreadable.length,
    problems: report.problems.length,
    firstProblems: report.problems.slice(0, 3),
  })}\n`,
);
