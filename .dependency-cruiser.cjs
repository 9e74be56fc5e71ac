/**
 * Import rules checked in CI (`npm run check:imports`): no import cycles anywhere in src/, and imports
 * point down the layers — the pure pricing engine at the bottom, then the kernel, then the features,
 * then the edges (graphql, http, realtime, agents).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make the load order matter and hide which module owns a rule.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pricing-is-pure',
      severity: 'error',
      comment: 'src/pricing/ is pure and synchronous: it imports nothing of the app (and no I/O).',
      from: { path: '^src/pricing/' },
      to: { path: '^src/(?!pricing/)' },
    },
    {
      name: 'kernel-below-features',
      severity: 'error',
      comment: 'The kernel serves every feature; it must not import one.',
      from: { path: '^src/kernel/' },
      to: { path: '^src/(orders|coupons|payments|refunds|merchants|processors|graphql|http|realtime|agents)/' },
    },
    {
      name: 'features-below-edges',
      severity: 'error',
      comment: 'Use cases do not know how they are called (GraphQL, HTTP, MCP, subscriptions).',
      from: { path: '^src/(kernel|audit|orders|coupons|payments|refunds|merchants|processors|pricing)/' },
      to: { path: '^src/(graphql|http|agents)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
