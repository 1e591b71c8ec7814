/** RFC 9457 problem details for every error answer. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PROBLEM_TYPE_BASE, type SlipwayError } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ReadonlyArray<object>;
}

export function problemOf(error: SlipwayError, instance?: string): ProblemBody {
  const body: ProblemBody = {
    type: `${PROBLEM_TYPE_BASE}${error.problemType}`,
    title: error.title,
    status: error.status,
    detail: error.message,
  };
  if (instance) body.instance = instance;
  if (error.errors.length > 0) body.errors = error.errors;
  return body;
}

export function problemResponse(body: ProblemBody, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}

/** 500 answer that leaks nothing about the failure; the request id lets operators find the log line. */
export function internalProblem(requestId: string): ProblemBody {
  return {
    type: `${PROBLEM_TYPE_BASE}internal`,
    title: 'Internal error',
    status: 500,
    detail: `The request failed unexpectedly (request id ${requestId}).`,
  };
}
