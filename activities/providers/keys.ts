import type { Backbone } from '../../core/pool';
import { ProviderError } from './types';

/** API keys come only from the environment, read at call time; their values never enter messages. */

export type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_API_KEY_ENV = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' } as const;

type KeyedBackbone = Pick<Backbone, 'id' | 'provider' | 'apiKeyEnv' | 'noApiKey'>;

/** Sent to endpoints that take no key (the SDKs refuse an empty one); never a secret. */
const NO_API_KEY = 'no-key';

/** The environment variable a backbone's key is read from; undefined for the simulated pool and keyless endpoints. */
function apiKeyEnvFor(b: KeyedBackbone): string | undefined {
  if (b.provider === 'simulated' || b.noApiKey === true) return undefined;
  return b.apiKeyEnv ?? DEFAULT_API_KEY_ENV[b.provider];
}

/** The key for a call; a missing key is a non-retryable ProviderError naming the variable. */
export function readApiKey(b: KeyedBackbone, env: Env): string {
  if (b.noApiKey === true) return NO_API_KEY;
  const name = apiKeyEnvFor(b);
  const value = name === undefined ? undefined : env[name];
  if (name === undefined || value === undefined || value.trim() === '') {
    throw new ProviderError(`${name ?? 'API key variable'} is not set (needed by backbone "${b.id}")`, false);
  }
  return value.trim();
}

/** Thrown before any work starts when backbones in use lack their API key variables. */
export class MissingApiKeyError extends Error {
  override readonly name = 'MissingApiKeyError';
  constructor(readonly variables: readonly { name: string; backbones: readonly string[] }[]) {
    super(
      `missing API key environment variable${variables.length > 1 ? 's' : ''}: ` +
        variables.map((v) => `${v.name} (used by ${v.backbones.join(', ')})`).join('; ') +
        '. Set them in the environment of the workers that call the providers.',
    );
  }
}

/** Checks every non-simulated backbone in use has its key variable set; throws MissingApiKeyError otherwise. */
export function assertApiKeys(backbones: readonly KeyedBackbone[], env: Env = process.env): void {
  const missing = new Map<string, string[]>();
  for (const b of backbones) {
    const name = apiKeyEnvFor(b);
    if (name === undefined) continue;
    const value = env[name];
    if (value !== undefined && value.trim() !== '') continue;
    const users = missing.get(name) ?? [];
    if (!users.includes(b.id)) users.push(b.id);
    missing.set(name, users);
  }
  if (missing.size > 0) throw new MissingApiKeyError([...missing].map(([name, ids]) => ({ name, backbones: ids })));
}
