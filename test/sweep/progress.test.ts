import { describe, it, expect } from 'vitest';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { ProgressView } from '../../src/sweep/progress.js';
import { checkpointInPackage, jobId, localizeConfig, PROTOCOL_VERSION } from '../../src/sweep/protocol.js';
import { parseTrainCommand } from '../../src/sweep/command.js';
import { paretoFrontier } from '../../src/sweep/results.js';
import { parseMetricsJsonl } from '../../src/sweep/rundir.js';
import { packageRoot } from '../../src/util/paths.js';

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  rows?: number;
  columns?: number;
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

describe('ProgressView', () => {
  it('prints one plain line per event with the finished count', () => {
    let t = 0;
    const out = new Capture();
    const v = new ProgressView(
      [
        { name: 'a', phase: 'queued', steps: 10 },
        { name: 'b', phase: 'skipped', steps: 10 },
      ],
      { mode: 'auto', stream: out, title: 'sweep x', now: () => t },
    );
    expect(v.mode).toBe('plain'); // not a TTY
    v.start();
    t = 1000;
    v.update('a', { phase: 'running' });
    t = 62_500;
    v.update('a', { phase: 'done', accuracy: 0.625, length: 31.25, wall_s: 61.5 });
    v.stop();
    const lines = out.text.trim().split('\n');
    expect(lines[0]).toBe('sweep x: 2 run(s), 1 already finished');
    expect(lines[1]).toBe('[1.0s] [1/2] start   a');
    expect(lines[2]).toBe('[1m02s] [2/2] done    a  acc 0.625  len 31.3  (1m01s)');
    expect(lines[3]).toBe('[1m02s] sweep x: 1 done, 0 failed, 1 skipped, 0 running, 0 queued');
  });

  it('redraws a block on a terminal, running runs first, within the screen height', () => {
    let t = 0;
    const out = new Capture();
    out.isTTY = true;
    out.rows = 8;
    out.columns = 120;
    const runs = Array.from({ length: 10 }, (_, i) => ({ name: `run${i}`, phase: 'queued' as const, steps: 4 }));
    const v = new ProgressView(runs, { mode: 'auto', stream: out, title: 'sw', now: () => t });
    expect(v.mode).toBe('tty');
    v.update('run7', { phase: 'running' });
    t = 2500;
    v.update('run7', { step: 2, accuracy: 0.5, length: 12 });
    v.update('run3', { phase: 'failed', error: 'exit 3\nmore' });
    const lines = v.render();
    expect(lines[0]).toBe('sw: 1/10 finished (0 done, 1 failed, 0 skipped), 1 running, 8 queued — 2.5s');
    expect(lines[1]).toBe('  running run7  step 2/4      acc 0.500  len   12.0  2.5s');
    expect(lines[2]).toBe('  failed  run3  4 steps       acc     -  len      -    exit 3');
    // A second step seen 1.5 s after the first: 1.5 s per step, 2 steps to go.
    t = 4000;
    v.update('run7', { step: 3, accuracy: 0.5, length: 12 });
    expect(v.render()[1]).toBe('  running run7  step 3/4      acc 0.500  len   12.0  4.0s, 1.5s/step, ETA 1.5s');
    t = 2500;
    expect(lines.length).toBe(7); // rows - 1: header + 5 runs + "... more"
    expect(lines[6]).toBe('  ... 5 more');
    v.start();
    v.stop();
    expect(out.text).toContain('\x1b['); // cursor movement between redraws
  });
});

describe('queue protocol', () => {
  it('maps a checkpoint inside the package onto the worker\'s install', () => {
    const inside = JSON.stringify({ model: { checkpoint: path.join(packageRoot(), 'checkpoints', 'sft') } });
    expect(checkpointInPackage(inside)).toBe('checkpoints/sft');
    expect(checkpointInPackage(JSON.stringify({ model: { checkpoint: '/elsewhere/ck' } }))).toBeNull();
    expect(checkpointInPackage(JSON.stringify({ model: { checkpoint: null } }))).toBeNull();
    const data = { v: PROTOCOL_VERSION, sweep: 's', run: 'r', config: JSON.stringify({ model: { checkpoint: '/other/machine/laconic/checkpoints/sft' } }), steps: 1, checkpoint_in_package: 'checkpoints/sft' };
    expect(JSON.parse(localizeConfig(data)).model.checkpoint).toBe(path.join(packageRoot(), 'checkpoints', 'sft'));
    expect(jobId('a:b', 'r')).toBe('a_b__r');
  });

  it('parses a train command prefix', () => {
    const f = parseTrainCommand('["node", "x.js"]');
    expect(f('/c.json', '/out')).toEqual({ command: 'node', args: ['x.js', 'train', '--config', '/c.json', '--out', '/out'] });
    expect(() => parseTrainCommand('node x.js')).toThrow(/--train-command: expected a JSON array/);
    expect(() => parseTrainCommand('[]')).toThrow(/non-empty JSON array/);
  });
});

describe('results helpers', () => {
  it('computes the Pareto frontier for shorter and more accurate', () => {
    // (len, acc): A(10,.2) B(20,.5) C(30,.4) D(40,.6) E(20,.5) duplicate of B, F(50,.6) dominated by D.
    const pts = [
      { length: 10, accuracy: 0.2 },
      { length: 20, accuracy: 0.5 },
      { length: 30, accuracy: 0.4 },
      { length: 40, accuracy: 0.6 },
      { length: 20, accuracy: 0.5 },
      { length: 50, accuracy: 0.6 },
    ];
    expect(paretoFrontier(pts)).toEqual([true, true, false, true, true, false]);
  });

  it('reads metrics.jsonl, tolerating only a torn last line', () => {
    expect(parseMetricsJsonl('{"step":1}\n{"step":2}\n{"st')).toEqual([{ step: 1 }, { step: 2 }]);
    expect(() => parseMetricsJsonl('{"step":1}\n{bad\n{"step":3}\n', 'm.jsonl')).toThrow(/m\.jsonl:2: invalid JSON/);
  });
});
