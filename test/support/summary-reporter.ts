/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI log reader understands. Counted when
 * the run ends; printed from `onFinished`, which vitest calls after the default reporter's own summary.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') counts[state]++;
        else counts.skipped++;
      }
    }
    this.line = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  }

  onFinished(): void {
    process.stdout.write(`${this.line}\n`);
  }
}
