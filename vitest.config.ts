import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    pool: 'forks',
    // Tests start real processes and sockets; two cores are shared between them.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    // Ryuk (testcontainers' reaper) is an image no registry here serves: tests remove what they start.
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
    hookTimeout: 60_000,
    reporters: ['./tools/summary-reporter.ts', 'default'],
    // The images are built, and a Swarm made, once before any test uses them.
    globalSetup: ['./tools/docker-setup.ts'],
  },
});
