/**
 * Assembles a runnable OpenSearch + k-NN tree from Maven Central artifacts, once: the official
 * tarball is not always reachable, and the jars on Maven Central are the same code. The tree
 * goes to the cache folder (outside any clone) and is reused by every cluster folder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ClusterAssembleError } from './cluster-errors.js';
import { distDir, KNN_VERSION, OPENSEARCH_VERSION, POMS_DIR } from './paths.js';
import { findMaven } from './tools.js';

/** Pinned so an assembly does not change with whatever plugin version Maven would pick. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
const MARKER = '.assembled';

export interface Distribution {
  dir: string;
  /** True when this call assembled it (false: it was already cached). */
  assembled: boolean;
  seconds: number;
}

/** The cached distribution, assembling it first when it is not there (needs mvn then). */
export async function ensureDistribution(cacheDir: string, opts: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<Distribution> {
  const dir = distDir(cacheDir);
  const started = Date.now();
  if (existsSync(join(dir, MARKER))) return { dir, assembled: false, seconds: 0 };
  const mvn = findMaven(dir, opts.env);
  await mkdir(cacheDir, { recursive: true });
  const release = await lock(`${dir}.lock`, () => existsSync(join(dir, MARKER)));
  if (!release) return { dir, assembled: false, seconds: (Date.now() - started) / 1000 };
  try {
    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await assembleInto(staging, mvn, opts.onLine ?? (() => undefined));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { dir, assembled: true, seconds: (Date.now() - started) / 1000 };
  } finally {
    await release();
  }
}

async function assembleInto(out: string, mvn: string, onLine: (line: string) => void): Promise<void> {
  const dl = join(out, 'dl');
  const steps = ['core', 'netty', 'painless', 'analysis'];
  for (const [i, p] of steps.entries()) {
    onLine(`assembling OpenSearch ${OPENSEARCH_VERSION} from Maven Central: ${p} (${i + 1}/${steps.length + 1})`);
    await runMaven(mvn, p, [`${DEPENDENCY_PLUGIN}:copy-dependencies`, `-DoutputDirectory=${join(dl, p)}`, '-DincludeScope=runtime']);
  }
  onLine(`assembling OpenSearch ${OPENSEARCH_VERSION} from Maven Central: k-NN ${KNN_VERSION} (${steps.length + 1}/${steps.length + 1})`);
  // The plugin is published as a zip: unpacked by Maven, so no unzip program is needed. Its
  // "already unpacked" markers go to the staging folder, not next to the POM (a target/ there
  // would make a later assembly skip the unpack).
  await runMaven(mvn, 'knn', [
    `${DEPENDENCY_PLUGIN}:unpack-dependencies`,
    `-DoutputDirectory=${join(out, 'plugins', 'opensearch-knn')}`,
    `-DmarkersDirectory=${join(dl, 'markers')}`,
    '-DexcludeTransitive=true',
    '-DincludeTypes=zip',
  ]);
  if (!existsSync(join(out, 'plugins', 'opensearch-knn', 'plugin-descriptor.properties'))) {
    throw new ClusterAssembleError('k-NN', 'the opensearch-knn zip unpacked without a plugin-descriptor.properties');
  }

  const lib = join(out, 'lib');
  await mkdir(lib, { recursive: true });
  // OpenSearch checks that path.home has a bin folder, even though nothing runs from it.
  await mkdir(join(out, 'bin'), { recursive: true });
  for (const jar of await jars(join(dl, 'core'))) await copyFile(jar, join(lib, basename(jar)));
  const inLib = new Set(await readdir(lib));
  await module(out, dl, inLib, 'transport-netty4', 'org.opensearch.transport.Netty4Plugin', '', 'netty', NETTY_POLICY);
  await module(out, dl, inLib, 'lang-painless', 'org.opensearch.painless.PainlessPlugin', '', 'painless', PAINLESS_POLICY);
  await module(out, dl, inLib, 'analysis-common', 'org.opensearch.analysis.common.CommonAnalysisPlugin', 'lang-painless', 'analysis', null);
  await rm(dl, { recursive: true, force: true });
  await writeFile(join(out, MARKER), JSON.stringify({ opensearch: OPENSEARCH_VERSION, knn: KNN_VERSION, at: new Date().toISOString() }) + '\n');
}

/** A module folder: its jars that core does not already have, and the descriptor OpenSearch reads. */
async function module(out: string, dl: string, inLib: Set<string>, name: string, classname: string, extended: string, from: string, policy: string | null): Promise<void> {
  const dir = join(out, 'modules', name);
  await mkdir(dir, { recursive: true });
  for (const jar of await jars(join(dl, from))) if (!inLib.has(basename(jar))) await copyFile(jar, join(dir, basename(jar)));
  const descriptor = [
    `description=${name} (assembled by quarry from Maven Central jars)`,
    `version=${OPENSEARCH_VERSION}`,
    `name=${name}`,
    `classname=${classname}`,
    'java.version=11',
    `opensearch.version=${OPENSEARCH_VERSION}`,
    `extended.plugins=${extended}`,
    'has.native.controller=false',
  ];
  await writeFile(join(dir, 'plugin-descriptor.properties'), descriptor.join('\n') + '\n');
  if (policy) await writeFile(join(dir, 'plugin-security.policy'), policy);
}

// The permissions the official distribution grants these modules (the security manager is on).
const NETTY_POLICY = `grant {
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.net.SocketPermission "*", "accept,connect";
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
};
`;
const PAINLESS_POLICY = `grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
`;

async function jars(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.jar')).map((f) => join(dir, f));
}

function runMaven(mvn: string, pom: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, ['-q', '-B', '-f', join(POMS_DIR, `${pom}.xml`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new ClusterAssembleError(`mvn (${pom})`, e.message)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new ClusterAssembleError(`mvn (${pom}, exit ${code})`, lastLines(output, 15)))));
  });
}

export function lastLines(text: string, n: number): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-n).join('\n');
}

/**
 * One assembler at a time per cache folder (two `up`s, two test files): a lock folder holding
 * its owner's pid. A waiter returns null once `done()` holds; a dead owner's lock is taken over.
 */
async function lock(path: string, done: () => boolean): Promise<(() => Promise<void>) | null> {
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
    if (owner && !alive(owner)) await rm(path, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 1000));
    if (done()) return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
