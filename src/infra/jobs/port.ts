/**
 * Background jobs (ARCHITECTURE.md, "jobs"): durable queues whose jobs survive a restart, are retried with
 * exponential backoff when their handler fails, and land in a dead-letter queue once their retries run out.
 */

export interface RetryPolicy {
  /** Attempts after the first one; when the last fails, the job goes to the dead-letter queue. */
  retryLimit: number;
  /** Wait before the first retry; each later retry waits twice as long as the one before, plus up to as much again. */
  retryDelaySeconds: number;
  /** The queue that receives a job whose retries ran out, as a new job with the same data; nothing works it. */
  deadLetter: string;
}

export interface Job<T> {
  id: string;
  data: T;
  /** 1 for the first attempt. */
  attempt: number;
  /** No retry follows if this attempt fails. */
  lastAttempt: boolean;
}

export interface JobQueue {
  /** Creates the queue and its dead-letter queue, or brings an existing queue's policy up to date. */
  declareQueue(name: string, policy: RetryPolicy): Promise<void>;
  /** Adds jobs to a queue; a job whose id the queue already holds is left as it is, so sending twice is harmless. */
  send<T extends object>(queue: string, jobs: ReadonlyArray<{ id: string; data: T }>): Promise<void>;
  /**
   * Hands the queue's jobs to `handler`, several at a time, until `close`. A job whose handler throws is retried
   * under its queue's policy; one whose handler returns is done.
   */
  work<T>(queue: string, handler: (job: Job<T>) => Promise<void>): Promise<void>;
  /** Resolves when the queue's database answers; for /ready. */
  ping(): Promise<void>;
  /** Stops taking jobs, waits for those in hand, then lets go of the database. */
  close(): Promise<void>;
}
