/** The programs the local cluster needs: java to run OpenSearch, mvn to assemble it, setpriv when root. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { javaMissing, javaVersionUnsupported, mavenMissing, setprivMissing } from './cluster-errors.js';

/** The first executable `name` on `env.PATH`, like the shell would find it. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface Java {
  path: string;
  major: number;
}

/** `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH; Java 17 to 21 (what OpenSearch 2.19 supports). */
export function findJava(env: NodeJS.ProcessEnv = process.env): Java {
  const home = env.JAVA_HOME?.trim();
  const path = home ? join(home, 'bin', 'java') : findOnPath('java', env);
  if (!path || !isExecutable(path)) throw javaMissing(home ? `JAVA_HOME is ${home}, which has no bin/java` : 'not on PATH, and JAVA_HOME is not set');
  const run = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 30_000 });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${run.stderr ?? ''}${run.stdout ?? ''}`);
  if (!m) throw javaMissing(`${path} -version did not say its version: ${(run.stderr || run.error?.message || '').trim().slice(0, 200)}`);
  // "1.8.0_x" is Java 8; from 9 on the first number is the major version.
  const major = m[1] === '1' ? Number(m[2]) : Number(m[1]);
  if (major < 17 || major > 21) throw javaVersionUnsupported(path, major);
  return { path, major };
}

export function findMaven(distDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const mvn = findOnPath('mvn', env);
  if (!mvn) throw mavenMissing(distDir);
  return mvn;
}

/** OpenSearch exits when started as root: as root, quarry runs it as uid 65534 through setpriv. */
export function runsAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function findSetpriv(env: NodeJS.ProcessEnv = process.env): string {
  const setpriv = findOnPath('setpriv', env) ?? ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable);
  if (!setpriv) throw setprivMissing();
  return setpriv;
}
