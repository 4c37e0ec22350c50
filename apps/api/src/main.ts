import 'reflect-metadata';
import type { ConfigType } from '@nestjs/config';
import { createApp, bootstrapLogger } from './app.setup.js';
import { httpConfig } from './config/http.config.js';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const { port, host } = app.get<ConfigType<typeof httpConfig>>(httpConfig.KEY);
  await app.listen(port, host);
  bootstrapLogger.log(`SMS Service listening on http://localhost:${port}/api (docs at /api/docs)`);
}

bootstrap().catch((error: unknown) => {
  bootstrapLogger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
