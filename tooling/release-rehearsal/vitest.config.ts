import { defineTestConfig } from "../vitest.config.base.ts";

// The rehearsal is one long beforeAll (release, npm install, image build); the tests only judge it.
export default defineTestConfig({ include: ["src/**/*.test.ts"], testTimeout: 60_000 });
