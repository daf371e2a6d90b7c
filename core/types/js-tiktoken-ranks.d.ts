// js-tiktoken ships its rank files only under package `exports`, which `moduleResolution: node`
// does not read; this declares the one we use (the runtime resolves it through `exports`).
declare module 'js-tiktoken/ranks/o200k_base' {
  import type { TiktokenBPE } from 'js-tiktoken/lite';
  const ranks: TiktokenBPE;
  export default ranks;
}
