// dependency-cruiser: the layer rules of laconic, run by `npm run check` (npx depcruise src rewards verifiers curricula bench).
// The lower layers (model, data, rewards, verifiers, curricula) must not reach up into the layers that use them,
// so each can be read, tested and reused without the trainer or the command line.
const lower = '^(src/model|src/objectives|src/data|rewards|verifiers|curricula)/';
const upper = '^src/(trainer|offline|sweep|eval|demo|cli)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles make module initialisation order-dependent, and a type-only cycle is two modules that cannot be ' +
        'read apart: a type both sides need goes into a leaf module (e.g. src/model/paramSpec.ts, src/algorithm.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lower-layers-not-to-upper',
      severity: 'error',
      comment:
        'src/model, src/data, rewards/, verifiers/ and curricula/ must not import the trainer, offline, sweep, eval, demo or CLI layers ' +
        '(type-only imports included: a shared type belongs in the lower layer).',
      from: { path: lower },
      to: { path: upper },
    },
    {
      name: 'eval-not-to-trainer',
      severity: 'error',
      comment: 'Evaluation scores any checkpoint; what it shares with the trainer (held-out problems, prompts) lives in src/data or src/model.',
      from: { path: '^src/eval/' },
      to: { path: '^src/trainer/' },
    },
    {
      name: 'leaf-modules-stay-leaves',
      severity: 'error',
      comment:
        'The vocabulary and shared-type modules that break cycles import nothing of laconic; if one did, the cycle ' +
        'it broke could come back through it.',
      from: { path: '^(src/algorithm\\.ts|src/config/backend\\.ts|src/model/paramSpec\\.ts|verifiers/extraction\\.ts)$' },
      to: { path: '^(src|rewards|verifiers|curricula|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|runs|checkpoints|native)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
