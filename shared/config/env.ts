/**
 * Environment of each function kind, as zod schemas. The CDK constructs type their `environment` prop with
 * the input type (a missing variable fails compilation) and handlers parse it once at cold start.
 */
import { z } from 'zod';

const Common = {
  SLIPWAY_TABLE_NAME: z.string().min(3),
  /** Absent in AWS; locally points the SDK at DynamoDB Local. */
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
};

export const ApiEnv = z.object({
  ...Common,
  SLIPWAY_ADMIN_GROUP: z.string().min(1).default('slipway-admins'),
  SLIPWAY_PROVISION_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_UPDATE_STATE_MACHINE_ARN: z.string().min(1),
  SLIPWAY_DELETE_STATE_MACHINE_ARN: z.string().min(1),
});
export type ApiEnv = z.infer<typeof ApiEnv>;
export type ApiEnvInput = z.input<typeof ApiEnv>;

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Parses once; a bad environment is a deployment bug, so fail loudly at cold start. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, string | undefined> = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new EnvironmentError(`invalid environment: ${fields}`);
  }
  return result.data;
}
