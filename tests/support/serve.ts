import { spawn, type ChildProcess } from 'node:child_process';
import { runCli } from './cli.js';
import { CLI } from './env.js';

export interface Served {
  url: string;
  child: ChildProcess;
  /** What the server printed so far (its JSON log lines). */
  output: () => string;
  /** SIGTERM, and the exit code once it has stopped. */
  stop: () => Promise<number | null>;
}

/** Starts the real `quarry serve --port 0` in a child process and waits for its address. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      clearInterval(poll);
      child.kill('SIGKILL');
      reject(new Error(`quarry serve printed no listening line in 30 s: ${out}`));
    }, 30_000);
    const poll = setInterval(() => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        clearInterval(poll);
        resolve(m[1]);
      } else if (child.exitCode !== null) {
        clearTimeout(t);
        clearInterval(poll);
        reject(new Error(`quarry serve exited with ${child.exitCode}: ${out}`));
      }
    }, 20);
  });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `quarry keys create` through the real CLI; the key it prints. */
export async function createKeyCli(data: string, scope: 'read' | 'write' | 'admin', collection = '*'): Promise<string> {
  const r = await runCli(['keys', 'create', '--scope', scope, '--collection', collection, '--data', data]);
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits until /readyz says every collection serves. */
export async function waitReady(url: string, key: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status === 200) return;
    if (Date.now() > until) throw new Error(`not ready: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
