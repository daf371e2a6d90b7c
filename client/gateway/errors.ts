import type { ServerResponse } from 'node:http';

/** OpenAI's error types, as its SDKs map them from the status. */
export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

/** An error the gateway answers with, in OpenAI's `{ error: { message, type, param, code } }` shape. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code: string, param: string | null = null) => new GatewayError(400, 'invalid_request_error', message, code, param);

function errorBody(e: GatewayError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

/** Writes an error response; never a stack trace. */
export function sendError(res: ServerResponse, e: GatewayError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = errorBody(e);
  res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...e.headers });
  res.end(body);
}
