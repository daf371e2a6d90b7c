import { pathToFileURL } from 'node:url';
import type { PromptStyle } from './catalog';

/**
 * The slice of node-llama-cpp the server uses. node-llama-cpp is not a dependency of the project
 * (its platform builds weigh hundreds of MB); it is installed on demand into the state folder and
 * loaded from there by path, so these structural types stand in for its own declarations.
 */
type Token = number;
interface LlamaTokenizerLike {
  (text: string, specialTokens?: boolean): Token[];
}
interface ChatHistoryItem {
  type: 'system' | 'user' | 'model';
  text?: string;
  response?: string[];
}
interface ChatWrapperLike {
  readonly wrapperName: string;
  generateContextState(o: { chatHistory: ChatHistoryItem[] }): {
    contextText: { tokenize(tokenizer: LlamaTokenizerLike): Token[] };
  };
}
interface SequenceLike {
  evaluate(tokens: Token[], options?: { temperature?: number; seed?: number }): AsyncGenerator<Token, void, void>;
  clearHistory(): Promise<void>;
}
interface ContextLike {
  readonly contextSize: number;
  getSequence(): SequenceLike;
  dispose(): Promise<void>;
}
interface ModelLike {
  readonly tokenizer: LlamaTokenizerLike;
  readonly tokens: { readonly bos: Token | null };
  readonly trainContextSize: number;
  tokenize(text: string, specialTokens?: boolean): Token[];
  detokenize(tokens: readonly Token[], specialTokens?: boolean): string;
  isEogToken(token: Token | undefined): boolean;
  createContext(o: { contextSize: number; threads: number; sequences: number }): Promise<ContextLike>;
  dispose(): Promise<void>;
}
interface LlamaLike {
  loadModel(o: { modelPath: string }): Promise<ModelLike>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(o: {
    gpu: false;
    build: 'never';
    logLevel: 'error' | 'warn';
    maxThreads: number;
    progressLogs: boolean;
  }): Promise<LlamaLike>;
  resolveChatWrapper(model: ModelLike): ChatWrapperLike;
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  messages: readonly ChatTurn[];
  maxTokens: number;
  temperature: number;
  seed?: number;
  stop: readonly string[];
  signal: AbortSignal;
}

type FinishReason = 'stop' | 'length' | 'aborted';

export interface GenerateResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
  /** Seconds from the start of generation to the first generated token (prompt evaluation). */
  ttftS: number;
  totalS: number;
}

/** One loaded model: one context, one sequence, so one generation at a time (the server queues). */
export interface LoadedModel {
  readonly id: string;
  readonly prompt: PromptStyle;
  readonly contextSize: number;
  /** The exact tokens the model will evaluate for these messages (its own tokenizer and template). */
  promptTokens(messages: readonly ChatTurn[]): Token[];
  generate(req: GenerateRequest): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export interface Engine {
  load(o: { id: string; path: string; prompt: PromptStyle; contextSize: number; threads: number }): Promise<LoadedModel>;
  dispose(): Promise<void>;
}

/**
 * A base model has no chat format: the conversation is written as plain text that ends where the
 * answer should begin, and generation stops when the model starts a new question.
 */
export function completionPrompt(messages: readonly ChatTurn[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    if (m.role === 'system') parts.push(m.content.trim());
    else if (m.role === 'user') parts.push(m.content.trim());
    else parts.push(`Answer: ${m.content.trim()}`);
  }
  return `${parts.join('\n\n')}\n\nAnswer:`;
}
const COMPLETION_STOPS = ['\nQuestion:', '\n\n\n'];

function toHistory(messages: readonly ChatTurn[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
  );
  return [...history, { type: 'model', response: [] }];
}

/** The earliest stop string in `text`, if any, as the index where the kept text ends. */
function stopAt(text: string, stops: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best === undefined || i < best)) best = i;
  }
  return best;
}

/** Loads node-llama-cpp from the file the installer put it in (a dynamic import by path). */
export async function loadEngine(entryFile: string, maxThreads: number): Promise<Engine> {
  const lib = (await import(pathToFileURL(entryFile).href)) as NodeLlamaCpp;
  // CPU only, prebuilt binary only: never start a compile or probe GPUs on a machine without one.
  const llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads, progressLogs: false });
  return {
    async load({ id, path, prompt, contextSize, threads }) {
      const model = await llama.loadModel({ modelPath: path });
      const size = Math.min(contextSize, model.trainContextSize);
      const context = await model.createContext({ contextSize: size, threads, sequences: 1 });
      const sequence = context.getSequence();
      const wrapper = prompt === 'chat' ? lib.resolveChatWrapper(model) : undefined;
      const promptTokens = (messages: readonly ChatTurn[]): Token[] => {
        if (wrapper)
          return wrapper.generateContextState({ chatHistory: toHistory(messages) }).contextText.tokenize(model.tokenizer);
        const tokens = model.tokenize(completionPrompt(messages), false);
        return model.tokens.bos === null ? tokens : [model.tokens.bos, ...tokens];
      };
      return {
        id,
        prompt,
        contextSize: context.contextSize,
        promptTokens,
        async generate(req) {
          const started = performance.now();
          const input = promptTokens(req.messages);
          const stops = [...req.stop, ...(prompt === 'completion' ? COMPLETION_STOPS : [])];
          const out: Token[] = [];
          let firstAt: number | undefined;
          // The generator ends by itself at an end-of-generation token: that is a natural stop.
          let finishReason: FinishReason = 'stop';
          try {
            if (req.maxTokens > 0 && !req.signal.aborted) {
              const opts = { temperature: req.temperature, ...(req.seed !== undefined ? { seed: req.seed } : {}) };
              for await (const token of sequence.evaluate(input, opts)) {
                firstAt ??= performance.now();
                // Checked per token: a client that left stops the generation at the next token.
                if (req.signal.aborted) {
                  finishReason = 'aborted';
                  break;
                }
                if (model.isEogToken(token)) {
                  finishReason = 'stop';
                  break;
                }
                out.push(token);
                if (stops.length > 0 && stopAt(model.detokenize(out), stops) !== undefined) {
                  finishReason = 'stop';
                  break;
                }
                if (out.length >= req.maxTokens) {
                  finishReason = 'length';
                  break;
                }
              }
            } else if (req.signal.aborted) finishReason = 'aborted';
          } finally {
            await sequence.clearHistory();
          }
          const text = stripStops(model.detokenize(out), stops);
          const ended = performance.now();
          return {
            text,
            promptTokens: input.length,
            completionTokens: out.length,
            finishReason,
            ttftS: ((firstAt ?? ended) - started) / 1000,
            totalS: (ended - started) / 1000,
          };
        },
        async dispose() {
          await context.dispose();
          await model.dispose();
        },
      };
    },
    dispose: () => llama.dispose(),
  };
}

function stripStops(text: string, stops: readonly string[]): string {
  const cut = stopAt(text, stops);
  return cut === undefined ? text : text.slice(0, cut);
}
