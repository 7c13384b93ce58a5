import type { FastifyReply } from "fastify";

/** The error body every route answers with (schemas/serve-error.schema.json). */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** JSON pointer into the request body, for a body that fails its schema. */
    pointer?: string;
    /** `packs/0:3:5` style locations, for a pack that fails to compile. */
    where?: string[];
  };
}

/** An error a route answers with `status` (never a stack trace, never the request's content). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { pointer?: string; where?: string[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.extra.pointer === undefined ? {} : { pointer: err.extra.pointer }),
      ...(err.extra.where === undefined ? {} : { where: err.extra.where }),
    },
  };
  return reply.code(err.status).type("application/json").send(body);
}
