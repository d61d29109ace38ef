/** Starting, finding and stopping one node's JVM. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { chownTree } from './node-config.js';
import { nodeDir, nodeLog } from './cluster-state.js';
import { findSetpriv, type Java, runsAsRoot } from './tools.js';

/** The unprivileged user OpenSearch runs as when quarry is root ("nobody" on Debian). */
const NOBODY = 65534;

export interface StartNode {
  java: Java;
  dist: string;
  dir: string;
  name: string;
  configDir: string;
  heap: string;
}

/** Starts the node's JVM in the background (it outlives this process) and returns its pid. */
export async function startNode(o: StartNode): Promise<number> {
  const home = nodeDir(o.dir, o.name);
  const jvm = [
    `-Xms${o.heap}`,
    `-Xmx${o.heap}`,
    '-XX:+UseG1GC',
    '-Xss1m',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    '-Djava.locale.providers=SPI,COMPAT',
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j.shutdownHookEnabled=false',
    '-Dio.netty.noUnsafe=true',
    '-Dio.netty.noKeySetOptimization=true',
    '-Dio.netty.recycler.maxCapacityPerThread=0',
    `-Djava.io.tmpdir=${join(home, 'tmp')}`,
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${join(home, 'tmp')}`,
    // From Java 18 the security manager OpenSearch installs must be allowed explicitly.
    ...(o.java.major >= 18 ? ['-Djava.security.manager=allow'] : []),
    `-Dopensearch.path.home=${o.dist}`,
    `-Dopensearch.path.conf=${o.configDir}`,
    '-Dopensearch.distribution.type=tar',
    '-Dopensearch.bundled_jdk=false',
    '-cp',
    `${join(o.dist, 'lib')}/*`,
    'org.opensearch.bootstrap.OpenSearch',
  ];
  let command = o.java.path;
  let args = jvm;
  if (runsAsRoot()) {
    await chownTree(home, NOBODY, NOBODY);
    // Root's home (and mktemp folders) are closed to other users: then the node keeps only the
    // capability to read files and enter folders (not to write them), to load the distribution and
    // reach its data folder. no_setuid_fixup makes access(2), which Java's Files.exists uses, honor
    // it too; the exec'd JVM holds that one capability and nothing else.
    const caps = [o.dist, o.dir].every(openToOthers)
      ? []
      : ['--securebits=+no_setuid_fixup', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
    command = findSetpriv();
    args = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...caps, o.java.path, ...jvm];
  }
  const log = openSync(nodeLog(o.dir, o.name), 'a');
  writeSync(log, `\n==== quarry cluster up: ${o.name} starting at ${new Date().toISOString()}\n`);
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], cwd: home });
    const pid = await new Promise<number>((res, rej) => {
      child.once('spawn', () => res(child.pid as number));
      child.once('error', rej);
    });
    child.unref();
    return pid;
  } finally {
    closeSync(log);
  }
}

/** Whether every folder from the root down to `path` lets other users through. */
function openToOthers(path: string): boolean {
  for (let p = resolve(path); ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/**
 * Whether `pid` is this node's JVM: alive, not a zombie, and started with this node's config
 * folder (a pid file can outlive its process, and the pid can be reused by another program).
 */
export function isNodeProcess(pid: number, configDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // No /proc (macOS): the signal check is all there is.
    return process.platform !== 'linux';
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && cmdline.split('\0').includes(`-Dopensearch.path.conf=${configDir}`);
}

/** SIGTERM, then SIGKILL when it has not exited after `graceMs`; resolves once it is gone. */
export async function stopProcess(pid: number, configDir: string, graceMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isNodeProcess(pid, configDir)) return 'not-running';
  process.kill(pid, 'SIGTERM');
  if (await waitGone(pid, configDir, graceMs)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it exited between the check and the signal
  }
  await waitGone(pid, configDir, 10_000);
  return 'killed';
}

async function waitGone(pid: number, configDir: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isNodeProcess(pid, configDir)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return !isNodeProcess(pid, configDir);
}

/** Whether nothing listens on 127.0.0.1:port (checked by binding it for a moment). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const server = createServer();
    server.once('error', () => res(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => res(true)));
  });
}

/**
 * The last `n` lines of a log file (read from its last 64 KB), without Java stack frames: the
 * exception messages ("Caused by: ...") say why, the frames would push them off the screen.
 */
export async function tailFile(path: string, n: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '(no log written)';
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 65536);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').trimEnd().split('\n');
    return lines.filter((l) => !/^\s+(at |\.\.\. \d+ more)/.test(l)).slice(-n).join('\n');
  } finally {
    await fh.close();
  }
}
