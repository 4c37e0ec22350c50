import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BINARIES } from './binaries.js';
import { waitFor } from './pg-client.js';
import { freePort } from './ports.js';
import { launch, type ManagedProcess } from './processes.js';

export interface Nginx {
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface NginxOptions {
  dir: string;
  /** The app instances' ports on 127.0.0.1. */
  upstreamPorts: number[];
  /** The user nginx's workers run as when we are root (nginx's master stays root). */
  workerUser?: string;
}

/** The response header naming the instance (or instances, after a retry) that answered. */
export const UPSTREAM_HEADER = 'x-upstream-addr';

/** nginx.conf: round-robin over the instances, SSE-friendly, everything under `dir`. */
export function nginxConfig(dir: string, port: number, options: NginxOptions): string {
  const servers = options.upstreamPorts
    // max_fails=1 fail_timeout=5s: one failed attempt (as proxy_next_upstream
    // counts them) takes an instance out for 5 s, then one request probes it.
    .map((upstream) => `    server 127.0.0.1:${upstream} max_fails=1 fail_timeout=5s;`)
    .join('\n');
  return `# deploy/local (npm run topology)
daemon off;
${options.workerUser ? `user ${options.workerUser};\n` : ''}worker_processes auto;
pid ${join(dir, 'nginx.pid')};
error_log stderr notice;
# Fast shutdown on SIGTERM; a graceful one (SIGQUIT) would wait for open SSE streams.
worker_shutdown_timeout 5s;

events {
  # Each SSE stream holds two connections (client and upstream) for as long as it lasts.
  worker_connections 4096;
}

http {
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};

  log_format upstream '$remote_addr "$request" $status $body_bytes_sent '
                      'upstream=$upstream_addr upstream_status=$upstream_status '
                      'request_time=$request_time upstream_time=$upstream_response_time';
  access_log ${join(dir, 'access.log')} upstream buffer=32k flush=1s;

  # The app's own body limits apply (8 MiB for imports), not nginx's 1 MiB default.
  client_max_body_size 0;

  upstream sms_api {
    # Shared memory: every worker sees an instance marked failed, not just the one that saw it fail.
    zone sms_api 64k;
${servers}
    # Idle connections kept open to the instances, reused across requests.
    keepalive 32;
    # Below the app's HTTP_KEEP_ALIVE_TIMEOUT_MS (5 s): nginx closes an idle
    # connection before the app does, never sending a request into one the
    # app is closing at that moment.
    keepalive_timeout 4s;
  }

  server {
    listen 127.0.0.1:${port};

    location / {
      proxy_pass http://sms_api;
      # HTTP/1.1 without "Connection: close": needed for upstream keepalive
      # and for streamed (chunked) responses.
      proxy_http_version 1.1;
      proxy_set_header Connection "";

      # nginx is the edge here, so it replaces any X-Forwarded-For the client
      # sent rather than appending to it: the app (TRUST_PROXY=127.0.0.1) then
      # reads the client's real address and a client cannot forge one.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header Host $http_host;

      # Server-sent events: pass each event on at once, and keep a quiet
      # stream open (the app's heartbeats come well within the hour).
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_connect_timeout 2s;

      # Try another instance when one is down (refused, reset, timed out) or
      # answers 502/503 (for instance while it drains on shutdown). Without
      # "non_idempotent" (kept off on purpose) nginx retries a POST or PATCH
      # only if it had not been sent yet (connection refused): one that reached
      # an instance may have been applied, and a blind retry could send the
      # SMS twice. Clients retry those themselves, with their idempotency key.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 10s;

      # Which instance answered (tests and curl -i); local topology only, it
      # reveals internal addresses.
      add_header X-Upstream-Addr $upstream_addr always;
    }
  }
}
`;
}

/** Debian's nginx in the foreground (`daemon off`), with its pid, logs and temp files under `dir`. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'nginx.conf');
  await writeFile(config, nginxConfig(dir, port, options));
  const url = `http://127.0.0.1:${port}`;
  // -e stderr: not even the compiled-in /var/log/nginx/error.log is opened.
  const nginx = launch('nginx', BINARIES.nginx, ['-e', 'stderr', '-p', dir, '-c', config], {
    cwd: dir,
    logFile: join(dir, 'error.log'),
  });
  try {
    await waitFor(
      `nginx on port ${port}`,
      async () => {
        const response = await fetch(`${url}/api/health/live`, {
          signal: AbortSignal.timeout(2_000),
        });
        await response.arrayBuffer();
        return response.ok;
      },
      { alive: nginx.isRunning, output: nginx.output },
    );
  } catch (error) {
    await nginx.stop('SIGKILL');
    throw error;
  }
  return {
    port,
    url,
    process: nginx,
    stop: async () => void (await nginx.stop('SIGTERM', 10_000)),
  };
}
