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
      comment: 'Import cycles make module initialisation order-dependent; type-only imports are erased and do not count.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
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
