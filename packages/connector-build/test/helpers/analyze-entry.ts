// Runs analyzeRepository on argv[2] and prints its report as JSON: the permission test starts it as
// an unprivileged user (root reads every file, so only another uid meets a file it may not read).
import { analyzeRepository } from "../../src/analyze/analyze.ts";

process.stdout.write(JSON.stringify(await analyzeRepository(process.argv[2] as string)));
