import { createRequire } from 'node:module';

/**
 * Loads a module when a command runs rather than when the CLI starts, so a bad flag is answered
 * in a fraction of a second without loading the Temporal SDK or TensorFlow. A CommonJS require
 * (not `import()`): the CLI runs under tsx's require hook. `T` is `typeof import(id)`.
 */
export function lazy<T>(id: string, from: string): T {
  return createRequire(from)(id) as T;
}
