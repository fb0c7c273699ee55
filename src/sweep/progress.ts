import type { Writable } from 'node:stream';

/**
 * The live view of a sweep: on a terminal, a block of lines redrawn in place (one per run, the
 * running ones first when they do not all fit); elsewhere (CI logs, files), one plain line per event
 * and a summary line every `summaryEveryS` seconds.
 */

export type RunPhase = 'queued' | 'running' | 'done' | 'failed' | 'skipped';

export interface RunProgress {
  name: string;
  phase: RunPhase;
  steps: number;
  step?: number;
  accuracy?: number;
  length?: number;
  startedAt?: number;
  wall_s?: number;
  worker?: string;
  error?: string;
  /** The first step seen while running and when (ms): time per step is measured from there on. */
  baseStep?: number;
  baseAt?: number;
}

export type ProgressMode = 'tty' | 'plain' | 'none';

export interface ProgressOptions {
  mode?: ProgressMode | 'auto';
  stream?: Writable & { isTTY?: boolean; rows?: number; columns?: number };
  title?: string;
  summaryEveryS?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const num = (x: unknown, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');

function duration(s: number): string {
  if (!Number.isFinite(s)) return '-';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressView {
  readonly mode: ProgressMode;
  private readonly runs = new Map<string, RunProgress>();
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly title: string;
  private readonly now: () => number;
  private readonly t0: number;
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private dirty = true;
  private lastSummary: number;
  private readonly summaryEvery: number;
  private note = '';

  constructor(runs: RunProgress[], opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    const mode = opts.mode ?? 'auto';
    this.mode = mode === 'auto' ? (this.stream.isTTY ? 'tty' : 'plain') : mode;
    this.title = opts.title ?? 'sweep';
    this.now = opts.now ?? Date.now;
    this.t0 = this.now();
    this.lastSummary = this.t0;
    this.summaryEvery = (opts.summaryEveryS ?? 30) * 1000;
    for (const r of runs) this.runs.set(r.name, { ...r });
  }

  start(): void {
    if (this.mode === 'plain') {
      const c = this.counts();
      this.write(`${this.title}: ${this.runs.size} run(s)${c.skipped ? `, ${c.skipped} already finished` : ''}\n`);
    }
    if (this.mode === 'none' || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.mode === 'tty' ? 250 : 1000);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'tty') {
      this.dirty = true;
      this.redraw();
    }
    if (this.mode === 'plain') this.write(this.summaryLine() + '\n');
  }

  /** A one-line message under the title (TTY) or as its own line (plain), e.g. "waiting for workers". */
  setNote(note: string): void {
    if (note === this.note) return;
    this.note = note;
    this.dirty = true;
    if (this.mode === 'plain' && note) this.write(`${this.stamp()} ${note}\n`);
  }

  get(name: string): RunProgress | undefined {
    return this.runs.get(name);
  }

  update(name: string, patch: Partial<RunProgress>): void {
    const r = this.runs.get(name);
    if (!r) return;
    const before = r.phase;
    Object.assign(r, patch);
    if (patch.phase === 'running' && before !== 'running') {
      r.startedAt = this.now();
      r.baseStep = r.baseAt = undefined;
    }
    if (r.phase === 'running' && patch.step !== undefined && r.baseStep === undefined) {
      r.baseStep = patch.step;
      r.baseAt = this.now();
    }
    this.dirty = true;
    if (this.mode === 'plain' && patch.phase && patch.phase !== before) this.write(this.eventLine(r) + '\n');
  }

  counts(): Record<RunPhase, number> {
    const c: Record<RunPhase, number> = { queued: 0, running: 0, done: 0, failed: 0, skipped: 0 };
    for (const r of this.runs.values()) c[r.phase]++;
    return c;
  }

  /** The lines a terminal shows (exported for tests). */
  render(): string[] {
    const c = this.counts();
    const finished = c.done + c.failed + c.skipped;
    const head = `${this.title}: ${finished}/${this.runs.size} finished (${c.done} done, ${c.failed} failed, ${c.skipped} skipped), ${c.running} running, ${c.queued} queued — ${duration((this.now() - this.t0) / 1000)}`;
    const lines = [head];
    if (this.note) lines.push(`  ${this.note}`);
    const rows = Math.max(5, (this.stream.rows ?? 40) - lines.length - 1);
    const order: RunPhase[] = ['running', 'failed', 'queued', 'done', 'skipped'];
    const all = [...this.runs.values()].sort((a, b) => order.indexOf(a.phase) - order.indexOf(b.phase));
    const shown = all.length > rows ? all.slice(0, rows - 1) : all;
    const width = Math.min(48, Math.max(...all.map((r) => r.name.length), 4));
    for (const r of shown) lines.push(this.runLine(r, width));
    if (shown.length < all.length) lines.push(`  ... ${all.length - shown.length} more`);
    const cols = this.stream.columns ?? 200;
    return lines.map((l) => (l.length > cols ? l.slice(0, cols - 1) : l));
  }

  private runLine(r: RunProgress, width: number): string {
    const name = r.name.length > width ? r.name.slice(0, width - 1) + '…' : r.name.padEnd(width);
    const phase = r.phase.padEnd(7);
    const step = r.step !== undefined ? `step ${r.step}/${r.steps}` : `${r.steps} steps`;
    const elapsed = r.wall_s !== undefined ? duration(r.wall_s) : r.startedAt !== undefined ? duration((this.now() - r.startedAt) / 1000) + this.pace(r) : '';
    const where = r.worker && r.worker !== 'local' ? ` @${r.worker}` : '';
    const err = r.phase === 'failed' && r.error ? `  ${r.error.split('\n')[0]}` : '';
    return `  ${phase} ${name}  ${step.padEnd(13)} acc ${num(r.accuracy, 3).padStart(5)}  len ${num(r.length, 1).padStart(6)}  ${elapsed}${where}${err}`;
  }

  /** ", 1.2s/step, ETA 3m05s" once two steps of a running run have been seen (a resumed run starts at k). */
  private pace(r: RunProgress): string {
    if (r.phase !== 'running' || r.step === undefined || r.baseStep === undefined || r.baseAt === undefined || r.step <= r.baseStep) return '';
    const per = (this.now() - r.baseAt) / 1000 / (r.step - r.baseStep);
    return `, ${duration(per)}/step, ETA ${duration(per * Math.max(r.steps - r.step, 0))}`;
  }

  private eventLine(r: RunProgress): string {
    const c = this.counts();
    const n = `[${c.done + c.failed + c.skipped}/${this.runs.size}]`;
    switch (r.phase) {
      case 'running':
        return `${this.stamp()} ${n} start   ${r.name}${r.worker && r.worker !== 'local' ? ` on ${r.worker}` : ''}`;
      case 'done':
        return `${this.stamp()} ${n} done    ${r.name}  acc ${num(r.accuracy, 3)}  len ${num(r.length, 1)}  (${duration(r.wall_s ?? NaN)})`;
      case 'failed':
        return `${this.stamp()} ${n} FAILED  ${r.name}: ${(r.error ?? '').split('\n')[0]}`;
      case 'skipped':
        return `${this.stamp()} ${n} skip    ${r.name} (already finished)`;
      default:
        return `${this.stamp()} ${n} queued  ${r.name}`;
    }
  }

  private summaryLine(): string {
    const c = this.counts();
    const running = [...this.runs.values()].filter((r) => r.phase === 'running').map((r) => `${r.name} (${r.step ?? 0}/${r.steps}${this.pace(r)})`);
    return `${this.stamp()} ${this.title}: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running${running.length ? `: ${running.join(', ')}` : ''}, ${c.queued} queued`;
  }

  private stamp(): string {
    return `[${duration((this.now() - this.t0) / 1000)}]`;
  }

  private tick(): void {
    if (this.mode === 'tty') this.redraw();
    else if (this.mode === 'plain' && this.now() - this.lastSummary >= this.summaryEvery) {
      this.lastSummary = this.now();
      if (this.counts().running > 0) this.write(this.summaryLine() + '\n');
    }
  }

  private redraw(): void {
    if (!this.dirty && this.counts().running === 0) return;
    this.dirty = false;
    const lines = this.render();
    // Move up over the previous block, clear it, draw the new one.
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    s += lines.join('\n') + '\n';
    this.drawn = lines.length;
    this.write(s);
  }

  private write(s: string): void {
    this.stream.write(s);
  }
}
