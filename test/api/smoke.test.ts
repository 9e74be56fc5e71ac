import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const Viewer = graphql(`
  query SmokeViewer {
    viewer { id name apiKeys { prefix livemode revokedAt } }
  }
`);

describe('smoke', () => {
  it('signs up and reads the viewer with the new key', async () => {
    const { key, merchantId } = await api.signup({ name: 'Smoke Co' });
    expect(key).toMatch(/^sk_test_/);
    const data = await api.exec(Viewer, {}, key);
    expect(data.viewer?.id).toBe(merchantId);
    expect(data.viewer?.apiKeys).toHaveLength(1);
    expect(data.viewer?.apiKeys[0]?.prefix).toBe(key.slice(0, 12));
  });

  it('refuses a request without a key with 401', async () => {
    const result = await api.request(Viewer, {}, null);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
