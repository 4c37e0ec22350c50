import { IsIn, IsInt, IsString, Max, Min } from 'class-validator';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export type NodeEnvironment = (typeof NODE_ENVIRONMENTS)[number];

/**
 * Where and how the process runs. A lib's variables extend these when it
 * reads them, so each is declared, and defaulted, once.
 */
export class AppVariables {
  @IsIn(NODE_ENVIRONMENTS)
  NODE_ENV: NodeEnvironment = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsString()
  HOST: string = '0.0.0.0';

  /** Where an embedded PostgreSQL and the development secrets are kept. */
  @IsString()
  DATA_DIR: string = './.data';
}
