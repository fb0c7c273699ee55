import { describe, expect, it } from 'vitest';
import { backup, expandNode, extractStepPairs, makeMctsPairs, mctsParams, newRoot, puct, qValue, selectLeaf, splitStep, type Rollout, type StepNode } from '../../src/offline/mcts.js';
import { makePairs, type PairSamplingPolicy, type PairVerifier } from '../../src/offline/pairs.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { Rng } from '../../src/util/rng.js';

const grow = { delimiter: '\n', maxDepth: 5, budget: 100, countTokens: (s: string) => s.length };
const r = (text: string, value: number): Rollout => ({ text, value });

/** Root expanded by a\nb\n ✓, a\nc ✗, d ✗, a\nb ✓; then "a\n" expanded by b ✓ ×2, c ✗ ×2. */
function handTree(): { root: StepNode; a: StepNode; d: StepNode } {
  const root = newRoot();
  expandNode(root, [r('a\nb\n', 1), r('a\nc', 0), r('d', 0), r('a\nb', 1)], grow);
  const a = root.children.find((c) => c.step === 'a\n')!;
  const d = root.children.find((c) => c.step === 'd')!;
  expandNode(a, [r('b\n#### 1', 1), r('c\n#### 2', 0), r('b\n#### 1', 1), r('c\n#### 2', 0)], grow);
  return { root, a, d };
}

describe('mcts_steps: tree logic', () => {
  it('splits the first step at the delimiter, after any leading ones', () => {
    expect(splitStep('a=1\nb=2\n#### 3', '\n')).toEqual({ step: 'a=1\n', rest: 'b=2\n#### 3' });
    expect(splitStep('\n\nx\ny', '\n')).toEqual({ step: '\n\nx\n', rest: 'y' });
    expect(splitStep('#### 3', '\n')).toEqual({ step: '#### 3', rest: '' });
    expect(splitStep('s1. s2. ', '. ')).toEqual({ step: 's1. ', rest: 's2. ' });
  });

  it('expansion merges equal first steps: prior = share of samples, visits and values per rollout, backed up', () => {
    const root = newRoot();
    expandNode(root, [r('a\nb\n', 1), r('a\nc', 0), r('d', 0), r('a\nb', 1)], grow);
    expect(root.children.map((c) => [c.step, c.prior, c.visits, c.valueSum, c.terminal, c.tokens, c.depth])).toEqual([
      ['a\n', 0.75, 3, 2, false, 2, 1],
      ['d', 0.25, 1, 0, true, 1, 1],
    ]);
    expect([root.visits, root.valueSum]).toEqual([4, 2]);
    expect(root.children[0]!.best).toEqual({ text: 'a\nb\n', value: 1 });
    expect(root.children[0]!.worst).toEqual({ text: 'a\nc', value: 0 });
  });

  it('backs values up through every ancestor', () => {
    const { root, a } = handTree();
    // a: 3 visits (2 ✓) from the root's expansion + 4 (2 ✓) from its own
    expect([a.visits, a.valueSum, qValue(a)]).toEqual([7, 4, 4 / 7]);
    expect([root.visits, root.valueSum]).toEqual([8, 4]);
    const b = a.children.find((c) => c.step === 'b\n')!;
    backup(b, [0, 1]);
    expect([b.visits, b.valueSum, a.visits, a.valueSum, root.visits, root.valueSum]).toEqual([4, 3, 9, 5, 10, 5]);
  });

  it('PUCT selection: Q + c·P·√N(parent)/(1 + N); a large c explores the rarely visited step', () => {
    const { root, a, d } = handTree();
    // a: 4/7 + c·0.75·√8/8; d: 0 + c·0.25·√8/2 → a for c < 6.46, d above
    expect(puct(a, 8, 1)).toBeCloseTo(4 / 7 + (0.75 * Math.sqrt(8)) / 8, 12);
    expect(puct(d, 8, 1)).toBeCloseTo((0.25 * Math.sqrt(8)) / 2, 12);
    // c = 1: into a, then b (Q 1 + 0.5·√7/3) over c (Q 0 + 0.5·√7/3); b is a leaf
    expect(selectLeaf(root, 1).prefix).toBe('a\nb\n');
    expect(selectLeaf(root, 6)).toBe(a.children[0]);
    expect(selectLeaf(root, 7)).toBe(d);
  });

  it('pairs: at each node the highest-Q visited child over the lowest-Q one, margin and visits permitting', () => {
    const { root, a, d } = handTree();
    const b = a.children.find((c) => c.step === 'b\n')!;
    const cc = a.children.find((k) => k.step === 'c\n')!;
    expect(extractStepPairs(root, 0.2, 1)).toEqual([
      { node: root, chosen: a, rejected: d },
      { node: a, chosen: b, rejected: cc },
    ]);
    // Q(a) − Q(d) = 0.571 < 0.6
    expect(extractStepPairs(root, 0.6, 1)).toEqual([{ node: a, chosen: b, rejected: cc }]);
    // d has 1 visit, b and c 2
    expect(extractStepPairs(root, 0, 3)).toEqual([]);
  });

  it('does not grow a node at max_depth; its rollouts still value it', () => {
    const root = newRoot();
    expandNode(root, [r('x\n', 1), r('y\n', 0)], { ...grow, maxDepth: 0 });
    expect(root.children).toEqual([]);
    expect([root.visits, root.valueSum]).toEqual([2, 1]);
  });

  it('validates its parameters', () => {
    expect(mctsParams.parse({})).toMatchObject({ iterations: 8, expand: null, c_puct: 1, delimiter: '\n', completion: 'step' });
    expect(() => mctsParams.parse({ c_puct: -1 })).toThrow(/c_puct/);
  });
});

describe('mcts_steps: search with a scripted policy', () => {
  const tok = new CharTokenizer();
  // From the problem: "x=1\n#### 1" (right) and "x=2\n#### 2" (wrong) in turn; after a step, its answer.
  const next: Record<string, string[]> = { 'q=': ['x=1\n#### 1', 'x=2\n#### 2'], 'q=x=1\n': ['#### 1'], 'q=x=2\n': ['#### 2'] };
  const policy = (): PairSamplingPolicy & { prompts: string[] } => ({
    config: { contextLength: 64 },
    tokenizer: tok,
    prompts: [],
    async sample(prompts) {
      const k = new Map<string, number>();
      return prompts.map((p) => {
        expect(p[0]).toBe(tok.bos);
        const key = tok.decode(p);
        this.prompts.push(key);
        const i = k.get(key) ?? 0;
        k.set(key, i + 1);
        const tokens = [...tok.encode(next[key]![i % next[key]!.length]!), tok.eos];
        return { tokens, length: tokens.length, finishReason: 'stop' as const };
      });
    },
  });
  const verifier: PairVerifier = { async verifyBatch(items) { return items.map((i) => ({ correct: /(\d+)\s*$/.exec(i.response)?.[1] === i.gold, verdict: 'correct' as const })); } };
  const problems = [{ id: 'p', prompt: 'q=', gold: '1', format: 'gsm8k' as const }];

  it('emits the better first step over the worse one, prompt = problem + shared prefix', async () => {
    const pol = policy();
    // 1: root → x=1 (Q 1), x=2 (Q 0); 2: x=1 (1 + 0.5·√2/2 beats 0 + 0.5·√2/2) → "#### 1" ×2; 3: the terminal "#### 1" again
    const res = await makeMctsPairs(pol, verifier, problems, { samples: 2, budget: 40, rng: new Rng(0) }, mctsParams.parse({ iterations: 3 }));
    expect(pol.prompts).toEqual(['q=', 'q=', 'q=x=1\n', 'q=x=1\n']);
    expect(res.pairs).toHaveLength(1);
    expect(res.pairs[0]).toMatchObject({ prompt: 'q=', chosen: 'x=1\n', rejected: 'x=2\n', id: 'p/step0:0' });
    expect(res.pairs[0]!.meta).toMatchObject({ step_level: true, chosen_q: 1, rejected_q: 0, chosen_visits: 4, rejected_visits: 1, chosen_final: false, depth: 0 });
    // 4 rollouts of 11 tokens each (10 characters + EOS), 3 right
    expect(res.stats).toMatchObject({ problems: 1, pairs: 1, accuracy: 0.75, length_mean: 11, chosen_length_mean: 4 });
  });

  it('completion: rollout gives whole answers; makePairs runs it by name with --samples as the width', async () => {
    const res = await makePairs(policy(), verifier, problems, { samples: 2, budget: 40, rng: new Rng(0), strategy: 'mcts_steps', strategyParams: { iterations: 3, completion: 'rollout' } });
    expect(res.pairs.map((p) => [p.chosen, p.rejected])).toEqual([['x=1\n#### 1', 'x=2\n#### 2']]);
    await expect(makePairs(policy(), verifier, problems, { samples: 2, budget: 40, rng: new Rng(0), strategy: 'mcts_steps', strategyParams: { iterations: 0 } })).rejects.toThrow(/strategy "mcts_steps" params: iterations/);
  });
});
