/**
 * Errors of the local OpenSearch cluster (`quarry cluster`). Each names what to do; a missing
 * program names the Debian package that provides it, since that is how CI gets it too.
 */
import { QuarryError } from '../errors.js';
import { OPENSEARCH_VERSION } from './paths.js';

/** java, mvn or setpriv is not there (or not usable): install it, or point JAVA_HOME at it. */
export class ClusterPrerequisiteError extends QuarryError {
  constructor(code: 'JAVA_MISSING' | 'JAVA_VERSION' | 'MAVEN_MISSING' | 'SETPRIV_MISSING', message: string, details: Record<string, unknown> = {}) {
    super(code, 'not-found', message, details);
  }
}

export function javaMissing(where: string): ClusterPrerequisiteError {
  return new ClusterPrerequisiteError(
    'JAVA_MISSING',
    `java was not found (${where}); the local cluster runs OpenSearch ${OPENSEARCH_VERSION}, which needs Java 17: ` +
      'install it (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME to a Java 17 installation',
    { where },
  );
}

export function javaVersionUnsupported(java: string, major: number): ClusterPrerequisiteError {
  return new ClusterPrerequisiteError(
    'JAVA_VERSION',
    `${java} is Java ${major}; OpenSearch ${OPENSEARCH_VERSION} runs on Java 17 to 21 (newer ones removed the security manager it needs): ` +
      'install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) and set JAVA_HOME to it',
    { java, major },
  );
}

export function mavenMissing(distDir: string): ClusterPrerequisiteError {
  return new ClusterPrerequisiteError(
    'MAVEN_MISSING',
    `mvn was not found on PATH; the first \`quarry cluster up\` assembles OpenSearch ${OPENSEARCH_VERSION} from Maven Central with it: ` +
      `install it (Debian/Ubuntu: \`apt-get install maven\`); later runs use the assembled copy in ${distDir}`,
    { distDir },
  );
}

export function setprivMissing(): ClusterPrerequisiteError {
  return new ClusterPrerequisiteError(
    'SETPRIV_MISSING',
    'OpenSearch refuses to run as root, so quarry starts it as uid 65534 with setpriv, which was not found on PATH: ' +
      'install it (Debian/Ubuntu: `apt-get install util-linux`) or run quarry as an ordinary user',
  );
}

/** Maven (or the copy into place) failed while assembling the distribution. */
export class ClusterAssembleError extends QuarryError {
  constructor(step: string, output: string) {
    super(
      'CLUSTER_ASSEMBLE_FAILED',
      'unavailable',
      `assembling OpenSearch ${OPENSEARCH_VERSION} failed at ${step}; is Maven Central reachable (or a mirror set in ~/.m2/settings.xml)? Its output ended with:\n${output}`,
      { step, output },
    );
  }
}

export class PortInUseError extends QuarryError {
  constructor(port: number, use: string, node: string) {
    super(
      'PORT_IN_USE',
      'conflict',
      `port ${port} on 127.0.0.1 (the ${use} port of node ${node}) is already in use by another process; stop that process, or start the cluster on other ports with --port`,
      { port, use, node },
    );
  }
}

/** A node process ended while `up` waited for it: its log says why. */
export class ClusterNodeDiedError extends QuarryError {
  constructor(node: string, log: string, tail: string) {
    super('CLUSTER_NODE_DIED', 'unavailable', `node ${node} exited while starting; its log is ${log}, which ends with:\n${tail}`, { node, log, tail });
  }
}

export class ClusterStartTimeoutError extends QuarryError {
  constructor(dir: string, seconds: number, state: string, logs: string[]) {
    super(
      'CLUSTER_START_TIMEOUT',
      'unavailable',
      `the cluster in ${dir} was not ready within ${seconds} s (${state}); the nodes keep running: see their logs (${logs.join(', ')}), ` +
        `wait longer with --timeout, or stop them with \`quarry cluster down --dir ${dir}\``,
      { dir, seconds, state, logs },
    );
  }
}

export class ClusterNotFoundError extends QuarryError {
  constructor(dir: string) {
    super('CLUSTER_NOT_FOUND', 'not-found', `no cluster in ${dir}; start one with \`quarry cluster up --dir ${dir}\``, { dir });
  }
}

/** `up` asked for a shape other than the one the folder's data was made with. */
export class ClusterShapeError extends QuarryError {
  constructor(dir: string, what: string) {
    super(
      'CLUSTER_SHAPE',
      'conflict',
      `${dir} holds a cluster with ${what}; start it as it is, or use another --dir (\`quarry cluster down --dir ${dir}\` and delete the folder to start over)`,
      { dir, what },
    );
  }
}
