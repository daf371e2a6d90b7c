/**
 * Evaluated once per workflow thread, before the first workflow (the bundle's `preloadModules`,
 * workers/worker.ts), instead of once per workflow (#17). The SDK's reusable V8 context shares the
 * modules loaded here with every workflow and evaluates every other module of the bundle again for
 * each new workflow: zod's library alone took ~4.5 ms of each one-agent run's first activation.
 *
 * The SDK deep-freezes what shared modules export (and the context's globals) right after this
 * runs, and zod sets some of its exported state lazily: its default locale and memoizer
 * (`globalThis.__zod_globalConfig`, on the first schema built) and whether it may compile parsers
 * (`util.allowsEval`, on the first object schema). So this module builds and runs a schema now,
 * on a valid and on an invalid value, and exports nothing: our own schemas (core/mas.ts and the
 * modules it imports) stay per workflow and unfrozen, since zod memoizes on schema instances too.
 * Workflow code must never call `z.config()` (the config is frozen; it would throw).
 *
 * `jitless`: each workflow builds its input schema afresh and parses once; compiling a parser for
 * one parse (`new Function`, per workflow) costs more than the interpreted parse.
 */
import { z } from 'zod';

z.config({ jitless: true });
const warmUp = z.object({ s: z.string().min(1), n: z.number().optional(), a: z.array(z.tuple([z.string(), z.string()])).default([]) }).strict();
warmUp.safeParse({ s: 'x', a: [['a', 'b']] });
warmUp.safeParse({ s: '', n: 'x', extra: 1 });
