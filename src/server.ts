// The HTTP server: GraphQL at /graphql (GraphiQL in development) plus the plain routes of src/http/routes.ts.
import { createServer, type Server } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Config } from './config.js';
import type { Deps } from './domain/context.js';
import { authenticate } from './domain/auth.js';
import { schema } from './graphql/schema.js';
import type { GraphQLContext } from './graphql/context.js';
import { HTTP_ROUTES, sendJson } from './http/routes.js';

export interface AppServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export function createApp(deps: Deps, config: Pick<Config, 'development'>) {
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.development,
    landingPage: false,
    // Unexpected errors are masked ("Unexpected error."); GraphQLErrors we throw on purpose are not.
    maskedErrors: true,
    context: async ({ request }): Promise<GraphQLContext> => {
      const auth = await authenticate(deps.db, request.headers.get('authorization'));
      if (auth && 'principal' in auth) return { deps, principal: auth.principal, authProblem: null };
      return { deps, principal: null, authProblem: auth ? auth.problem : null };
    },
  });
  return yoga;
}

export async function startServer(deps: Deps, config: Pick<Config, 'development' | 'port'>, host = '0.0.0.0'): Promise<AppServer> {
  const yoga = createApp(deps, config);
  const server = createServer(async (req, res) => {
    try {
      for (const route of HTTP_ROUTES) {
        if (await route(req, res, deps)) return;
      }
      await yoga.handle(req, res);
    } catch (error) {
      console.error('unhandled error in HTTP handler', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'Unexpected error.' });
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
