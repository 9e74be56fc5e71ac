// createDashboardLink: a one-time sign-in link to the merchant dashboard (/dashboard, src/dashboard/).
import { builder } from '../builder.js';
import { requireScope } from '../context.js';
import { UserError } from './user-error.js';
import { createDashboardLink, LINK_EXPIRY_SECONDS } from '../../dashboard/sessions.js';
import type { UserError as UserErrorShape } from '../../kernel/errors.js';

const CreateDashboardLinkInput = builder.inputType('CreateDashboardLinkInput', {
  description: 'How long the one-time sign-in link stays usable.',
  fields: (t) => ({
    expiresInSeconds: t.int({
      description: `Default ${LINK_EXPIRY_SECONDS.default} (15 minutes); at least ${LINK_EXPIRY_SECONDS.min}, at most ${LINK_EXPIRY_SECONDS.max} (24 hours).`,
    }),
  }),
});

interface DashboardLinkShape {
  url: string | null;
  expiresAt: Date | null;
  userErrors: UserErrorShape[];
}

const DashboardLinkPayload = builder.objectRef<DashboardLinkShape>('DashboardLinkPayload').implement({
  description: 'The sign-in link, or userErrors (then no link was made).',
  fields: (t) => ({
    url: t.string({
      nullable: true,
      description:
        "One-time sign-in link to the merchant dashboard for this key's mode. Open it in a browser: it signs in once (an HttpOnly session cookie), then stops working.",
      resolve: (p) => p.url,
    }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'When the link stops working if it was not used.', resolve: (p) => p.expiresAt }),
    userErrors: t.field({ type: [UserError], description: 'Why no link was made, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('createDashboardLink', (t) =>
  t.field({
    type: DashboardLinkPayload,
    description:
      "A one-time sign-in link to the dashboard for this key's merchant and mode (an HttpOnly session cookie; no key reaches the browser). The session acts as this API key and ends when the key is revoked, after 12 hours, or on sign-out.",
    args: { input: t.arg({ type: CreateDashboardLinkInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scope = requireScope(ctx);
      const outcome = await createDashboardLink(scope, ctx.principal!.apiKeyId, { expiresInSeconds: input.expiresInSeconds ?? null });
      return outcome.ok ? { ...outcome.value, userErrors: [] } : { url: null, expiresAt: null, userErrors: outcome.errors };
    },
  }),
);
