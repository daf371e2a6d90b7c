import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Latency measured by the server once at start-up (a starting point; `profile` refits it). */
const CalibrationSchema = z.object({
  ttftS: z.number().nonnegative(),
  prefillTps: z.number().positive(),
  decodeTps: z.number().positive(),
  measuredAt: z.string(),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

/** What a running local model server records in `<state>/engine/server.json`. */
export const ServerRecordSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  port: z.number().int().positive(),
  baseUrl: z.string().url(),
  threads: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive().default(256),
  contextSize: z.number().int().positive(),
  models: z.array(z.string()).min(1),
  modelInfo: z
    .array(z.object({ id: z.string(), title: z.string(), prompt: z.enum(['chat', 'completion']), note: z.string() }))
    .default([]),
  calibration: z.record(z.string(), CalibrationSchema),
  startedAt: z.string(),
});
export type ServerRecord = z.infer<typeof ServerRecordSchema>;

export function readServerRecord(file: string): ServerRecord | undefined {
  try {
    const r = ServerRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
