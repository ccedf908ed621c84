/** nginx as a judge: started in its own directory with one server block, stopped after `use`. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `work`/nginx.conf around `serverBlock` (nginx directives of one `server`), runs nginx in the foreground during `use`. */
export async function withNginx<T>(work: string, serverBlock: string, use: (nginx: { exited: () => boolean }) => Promise<T>): Promise<T> {
  mkdirSync(join(work, 'tmp'), { recursive: true });
  writeFileSync(
    join(work, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${work}/nginx.pid;
error_log ${work}/error.log info;
events {}
http {
  access_log off;
  client_body_temp_path ${work}/tmp; proxy_temp_path ${work}/tmp; fastcgi_temp_path ${work}/tmp; uwsgi_temp_path ${work}/tmp; scgi_temp_path ${work}/tmp;
  server {
${serverBlock}
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', work, '-c', join(work, 'nginx.conf')], { stdio: 'ignore' });
  try {
    return await use({ exited: () => nginx.exitCode !== null });
  } finally {
    nginx.kill('SIGTERM');
    await new Promise((resolve) => (nginx.exitCode === null ? nginx.on('exit', resolve) : resolve(null)));
  }
}
