// GraphiQL at GET /graphql, with every asset served from this process (the bundle of
// @graphql-yoga/render-graphiql, inlined into the page): it works without internet access. The
// Authorization header is prefilled with a placeholder and the default query says where the key goes.
import { renderGraphiQL as renderBundledGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

export const GRAPHIQL_KEY_PLACEHOLDER = 'sk_test_REPLACE_WITH_YOUR_KEY';

export const GRAPHIQL_HINT = 'Your API key goes in Headers (below): "Authorization": "Bearer sk_test_..."';

const DEFAULT_QUERY = `# ${GRAPHIQL_HINT}
# No key yet? Sign up, no header needed, and copy testApiKey:
#   mutation { createMerchant(input: {name: "Bean There",
#     email: "owner@beanthere.test"}) { testApiKey } }

query MyLatestOrders {
  orders(first: 5) {
    edges { node { id status summary netAmounts { totalMoney { amount currency } } availableActions { action mutation } } }
  }
}
`;

export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'Flint GraphiQL',
  headers: JSON.stringify({ Authorization: `Bearer ${GRAPHIQL_KEY_PLACEHOLDER}` }, null, 2),
  defaultQuery: DEFAULT_QUERY,
  defaultEditorToolsVisibility: 'headers',
  shouldPersistHeaders: true,
};

const pages = new Map<string, string>();

/** The page for `options` (rendered once: the bundle is about 9 MB). */
export function renderGraphiQL(options: GraphiQLOptions): string {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = renderBundledGraphiQL(options);
    pages.set(key, page);
  }
  return page;
}
