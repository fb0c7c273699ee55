/**
 * Ctrl-C and SIGTERM for training loops. The first signal only sets `requested`: the loop finishes
 * its current step, writes a checkpoint, says where to resume and the command exits 130. A second
 * signal exits at once (130); the last checkpoint stays good because checkpoints are swapped in
 * atomically.
 *
 * A loop checks the flag through `stopRequested()`, so a library caller that never installed a
 * StopSignal (tests, other programs) is unaffected.
 */

export const EXIT_INTERRUPTED = 130;

let active: StopSignal | null = null;

export class StopSignal {
  requested = false;
  signal: NodeJS.Signals | null = null;
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);

  private constructor(
    private readonly say: (msg: string) => void,
    private readonly exit: (code: number) => void,
    private readonly onStop: (() => void) | undefined,
    private readonly what: string,
  ) {}

  /**
   * Install the handlers for SIGINT and SIGTERM (one StopSignal at a time per process). `onStop` runs
   * on the first signal (a sweep stops its runs with it); `what` is what the first signal finishes.
   */
  static install(opts: { say?: (msg: string) => void; exit?: (code: number) => void; onStop?: () => void; what?: string } = {}): StopSignal {
    active?.dispose();
    const s = new StopSignal(
      opts.say ?? ((m) => process.stderr.write(m + '\n')),
      opts.exit ?? ((c) => process.exit(c)),
      opts.onStop,
      opts.what ?? 'finishing this step and writing a checkpoint',
    );
    process.on('SIGINT', s.handler);
    process.on('SIGTERM', s.handler);
    active = s;
    return s;
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.requested) {
      this.say(`\nlaconic: ${sig} again, exiting now (the last checkpoint is kept)`);
      this.exit(EXIT_INTERRUPTED);
      return;
    }
    this.requested = true;
    this.signal = sig;
    this.say(`\nlaconic: ${sig}: ${this.what} (${sig === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to exit at once)`);
    this.onStop?.();
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
    if (active === this) active = null;
  }
}

/** True once a signal asked the running command to stop. */
export function stopRequested(): boolean {
  return active?.requested ?? false;
}

/** The line a stopped loop prints: where the checkpoint is and how to go on. */
export function resumeHint(kind: string, outDir: string, step: number): string {
  return `laconic ${kind}: stopped at step ${step}; checkpoint in ${outDir}/checkpoints/latest. Resume with the same command (same --config and --out).`;
}

/**
 * Run a CLI action with a StopSignal installed; when a signal stopped it, exit 130 after `fn` returns
 * (the loop has written its checkpoint by then).
 */
export async function withStopSignal<T>(fn: (stop: StopSignal) => Promise<T>, opts: Parameters<typeof StopSignal.install>[0] = {}): Promise<T> {
  const stop = StopSignal.install(opts);
  try {
    return await fn(stop);
  } finally {
    stop.dispose();
    if (stop.requested) process.exitCode = EXIT_INTERRUPTED;
  }
}
