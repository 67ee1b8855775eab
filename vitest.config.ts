import { defineConfig } from 'vitest/config';

// `npm test` runs every project: pure unit tests once, the adapter contract suites once (they loop over adapters
// themselves), and the integration and end-to-end suites twice, once per profile.
const backendSuites = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];
// `*.full.test.ts` needs what only the full profile has, such as several server processes on shared backends.
const fullOnly = '**/*.full.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Most files wait on servers, databases and child processes rather than compute: more files than cores run at
    // once (vitest's default on two cores is one at a time).
    maxWorkers: 3,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'] } },
      { extends: true, test: { name: 'embedded', include: backendSuites, exclude: [fullOnly], env: { MIRROR_TEST_PROFILE: 'embedded' } } },
      { extends: true, test: { name: 'full', include: backendSuites, env: { MIRROR_TEST_PROFILE: 'full' } } },
    ],
  },
});
