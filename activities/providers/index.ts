import type { ProviderKind } from '../../core/pool';
import { AnthropicProvider } from './anthropic';
import { OpenAIProvider, type RealProviderOptions } from './openai';
import path from 'node:path';
import { stateDir } from '../../infra/paths';
import { CachedProvider } from './cache';
import { SimulatedProvider } from './sim/provider';
import type { Provider } from './types';
import { productEnv } from '../../infra/env';

export { assertApiKeys, MissingApiKeyError } from './keys';
export type { Provider } from './types';

export type ProviderOptions = RealProviderOptions;

const shared = new Map<ProviderKind, Provider>();

/** Real providers behind the opt-in response cache (AGENTBALANCE_RESPONSE_CACHE=1), in the state folder. */
function create(kind: ProviderKind, options: ProviderOptions): Provider {
  const p = createBare(kind, options);
  if (kind === 'simulated' || productEnv().AGENTBALANCE_RESPONSE_CACHE !== '1') return p;
  return new CachedProvider(p, path.join(stateDir(), 'response-cache'));
}

function createBare(kind: ProviderKind, options: ProviderOptions): Provider {
  switch (kind) {
    case 'openai':
      return new OpenAIProvider(options);
    case 'anthropic':
      return new AnthropicProvider(options);
    case 'simulated':
      return new SimulatedProvider();
  }
}

/**
 * The provider for a backbone's `provider` field. Without options one instance per kind is shared
 * (providers are stateless; keys are read per call); with options a fresh one is made.
 */
export function getProvider(kind: ProviderKind, options?: ProviderOptions): Provider {
  if (options) return create(kind, options);
  let p = shared.get(kind);
  if (!p) {
    p = create(kind, {});
    shared.set(kind, p);
  }
  return p;
}
