// The client's types come from the server's printed schema (../../schema.graphql) and the operations
// in src/operations.ts: nothing is typed by hand. `npm run generate` writes src/generated/.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/operations.ts'],
  generates: {
    'src/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Plain strings at run time: the client needs no GraphQL library.
        documentMode: 'string',
        scalars: { SafeInt: 'number', DateTime: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
        emitLegacyCommonJSImports: false,
      },
    },
  },
};

export default config;
