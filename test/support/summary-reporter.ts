/**
 * Ends the run with one plain line, `N passed, N failed, N skipped, N errors`, that any CI log reader understands.
 * Errors are those outside any test — a file that failed to load, a failing `beforeAll`/`afterAll`, an unhandled
 * rejection — which fail the run (vitest exits 1) while every test passed. Counted when the run ends; printed from
 * `onFinished`, which vitest calls after the default reporter's own summary.
 */
import type { Reporter, TestModule } from 'vitest/node';

type SerializedError = Parameters<NonNullable<Reporter['onTestRunEnd']>>[1][number];

export default class SummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, errors: unhandledErrors.length };
    for (const module of modules) {
      counts.errors += module.errors().length;
      for (const suite of module.children.allSuites()) counts.errors += suite.errors().length;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') counts[state]++;
        else counts.skipped++;
      }
    }
    this.line = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.errors} errors`;
  }

  onFinished(): void {
    process.stdout.write(`${this.line}\n`);
  }
}
