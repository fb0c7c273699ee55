import seedrandom from 'seedrandom';

/**
 * A seeded random source whose full state can be saved in a checkpoint and restored,
 * so that a resumed run draws exactly the numbers the uninterrupted run would have drawn.
 */
export interface RngState {
  /** seedrandom ARC4 state (opaque, JSON-serialisable). */
  arc4: unknown;
}

export class Rng {
  // @types/seedrandom omits the state API that seedrandom implements ({state: true} and prng.state()).
  private prng: seedrandom.PRNG & { state(): unknown };

  constructor(seed: string | number, state?: RngState) {
    const make = seedrandom as unknown as (seed: string, opts: { state: unknown }) => seedrandom.PRNG & { state(): unknown };
    this.prng = state ? make('', { state: state.arc4 }) : make(String(seed), { state: true });
  }

  static fromState(state: RngState): Rng {
    return new Rng('', state);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.prng() * (hi - lo + 1));
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty array');
    return xs[Math.floor(this.prng() * xs.length)]!;
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      const t = xs[i]!;
      xs[i] = xs[j]!;
      xs[j] = t;
    }
    return xs;
  }

  /** A 32-bit integer seed for a derived stream (e.g. per-worker or per-problem generators). */
  int32(): number {
    return this.prng.int32() >>> 0;
  }

  state(): RngState {
    return { arc4: this.prng.state() };
  }
}
