import { Logger } from '@nestjs/common';
import type { RunningEmbeddedPostgres } from './embedded/embedded-postgres.launcher.js';

/**
 * The PostgreSQL server the app talks to: the one named by DATABASE_URL, or,
 * when that is unset, an embedded server started here and stopped on shutdown,
 * so that `npm start` needs nothing installed.
 */
export class DatabaseServer {
  private static readonly logger = new Logger('Database');

  private constructor(
    readonly url: string,
    private readonly embedded?: RunningEmbeddedPostgres,
  ) {}

  static async resolve(settings: {
    databaseUrl?: string;
    dataDir: string;
  }): Promise<DatabaseServer> {
    if (settings.databaseUrl) return new DatabaseServer(settings.databaseUrl);
    DatabaseServer.logger.log(
      `DATABASE_URL is unset: starting embedded PostgreSQL in ${settings.dataDir}`,
    );
    // Imported only here: embedded-postgres is a dev dependency, which production installs
    // (always given DATABASE_URL) leave out.
    const { startEmbeddedPostgres } = await import('./embedded/embedded-postgres.launcher.js');
    const embedded = await startEmbeddedPostgres({
      dataDir: settings.dataDir,
      logger: DatabaseServer.logger,
    });
    return new DatabaseServer(embedded.url, embedded);
  }

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  /** Stops the embedded server, if this process started one. Call after the pool is closed. */
  async stop(): Promise<void> {
    if (this.embedded) {
      await this.embedded.stop();
      DatabaseServer.logger.log('Embedded PostgreSQL stopped');
    }
  }
}
