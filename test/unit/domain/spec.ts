/** Given events, when a command, then events or an error: Emmett-style specifications for a pure decider. */
import { expect } from 'vitest';
import { DomainError, type ErrorCode } from '../../../src/domain/errors.js';

interface Decider<S, C, E> {
  initialState: () => S;
  decide: (command: C, state: S, now: Date) => E[];
  evolve: (state: S, event: E) => S;
}

export function specFor<S, C, E>(decider: Decider<S, C, E>) {
  return (given: E[]) => ({
    when: (command: C, now = new Date('2026-01-01T12:00:00Z')) => {
      const run = () => decider.decide(command, given.reduce(decider.evolve, decider.initialState()), now);
      return {
        then: (expected: E[]) => expect(run()).toEqual(expected),
        thenFails: (code: ErrorCode) => {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(DomainError);
          expect((thrown as DomainError).code).toBe(code);
        },
      };
    },
  });
}
