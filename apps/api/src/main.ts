import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { createApp, bootstrapLogger } from './app.setup.js';
import type { EnvironmentVariables } from './config/environment.js';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  const port = config.get('PORT', { infer: true });
  await app.listen(port, config.get('HOST', { infer: true }));
  bootstrapLogger.log(`SMS Service listening on http://localhost:${port}/api (docs at /api/docs)`);
}

bootstrap().catch((error: unknown) => {
  bootstrapLogger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
