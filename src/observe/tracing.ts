/**
 * Traces with the OpenTelemetry JS SDK. Instrumented code calls `withSpan` with a name from
 * the closed list in span-names.ts; whether anything is recorded is decided once per process
 * by `initTracing`, from the standard OTEL_* variables:
 *
 *   OTEL_SDK_DISABLED=true                       off, whatever else is set
 *   OTEL_TRACES_EXPORTER=none                    off
 *   OTEL_TRACES_EXPORTER=otlp (and/or console)   on, OTLP over HTTP (and/or spans on stdout)
 *   OTEL_TRACES_EXPORTER unset                   on (otlp) only when OTEL_EXPORTER_OTLP_ENDPOINT
 *                                                or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set
 *   OTEL_SERVICE_NAME                            service.name (default "quarry")
 *
 * The exporter itself reads the rest (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_BSP_*, ...).
 * Off means no SDK is even loaded (its import costs ~150 ms): spans go through the API's
 * no-op tracer, a few allocations per call. A host application that registers its own
 * tracer provider gets quarry's spans in its traces without calling initTracing.
 */
import { context, createContextKey, propagation, ProxyTracerProvider, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { QuarrySpanAttributes, SpanName } from './span-names.js';

export type { Span } from '@opentelemetry/api';

const TRACER_NAME = 'quarry';
/** The quarry span a context is in (set by withSpan), so a span never nests directly in one of its own name. */
const QUARRY_SPAN_KEY = createContextKey('quarry.span');

let provider: NodeTracerProvider | null = null;
let tracer: Tracer | null = null;
let currentExporters: Array<TraceExporterKind | 'custom'> = [];
/** Whether our provider became the global one (not so where a host application registered its own first). */
let ownsGlobals = false;
/** An initTracing in progress, so two concurrent calls register one provider. */
let starting: Promise<TracingState> | null = null;

/**
 * Runs `fn` inside a span named `name` (a child of the active span, if any) and ends it when
 * `fn` settles. A throw or rejection is recorded on the span (exception event, status ERROR)
 * and rethrown unchanged.
 *
 * Called directly inside a quarry span of the same name (the search's embed stage calling
 * the embedder, which opens its own `quarry.embed`), it adds `attrs` to that span instead of
 * nesting a duplicate one.
 */
export async function withSpan<T>(name: SpanName, attrs: QuarrySpanAttributes, fn: (span: Span) => T | Promise<T>): Promise<T> {
  const parent = context.active();
  const inside = parent.getValue(QUARRY_SPAN_KEY) as { name: SpanName; span: Span } | undefined;
  if (inside !== undefined && inside.name === name && trace.getSpan(parent) === inside.span) {
    inside.span.setAttributes(attrs);
    return fn(inside.span);
  }
  // Without initTracing, the global API: a no-op unless a host application registered a provider.
  const span = (tracer ?? trace.getTracer(TRACER_NAME)).startSpan(name, { attributes: attrs }, parent);
  return context.with(trace.setSpan(parent, span).setValue(QUARRY_SPAN_KEY, { name, span }), async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

export type TraceExporterKind = 'otlp' | 'console';

export interface TracingConfig {
  /** Exporters the environment asks for; empty means tracing stays off. */
  exporters: TraceExporterKind[];
  /** Where OTLP goes, from the variables (undefined: the exporter's default, http://localhost:4318/v1/traces). */
  otlpUrl?: string;
  serviceName: string;
  /** Variables that were set but cannot be honoured (said once on stderr by initTracing). */
  warnings: string[];
}

/** Reads the OTEL_* variables (see the module comment); pure, so it can be tested on its own. */
export function tracingConfigFromEnv(env: Record<string, string | undefined> = process.env): TracingConfig {
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? 'quarry';
  const warnings: string[] = [];
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { exporters: [], serviceName, warnings };
  const listed = nonEmpty(env.OTEL_TRACES_EXPORTER);
  let wanted: string[];
  if (listed === undefined) {
    const endpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    wanted = endpoint === undefined ? [] : ['otlp'];
  } else {
    wanted = listed
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s.length > 0);
    if (wanted.includes('none')) wanted = [];
  }
  const exporters: TraceExporterKind[] = [];
  for (const w of wanted) {
    if (w === 'otlp' || w === 'console') {
      if (!exporters.includes(w)) exporters.push(w);
    } else warnings.push(`OTEL_TRACES_EXPORTER=${w} is not supported by quarry (otlp, console or none); ignored`);
  }
  let otlpUrl: string | undefined;
  if (exporters.includes('otlp')) {
    // the signal-specific variable is the whole URL; the general one is a base that /v1/traces is added to
    const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    otlpUrl = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
    const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL);
    if (protocol !== undefined && !protocol.startsWith('http/')) {
      warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: quarry exports OTLP over HTTP (JSON encoding)`);
    }
  }
  return { exporters, serviceName, warnings, ...(otlpUrl === undefined ? {} : { otlpUrl }) };
}

export interface TracingOptions {
  /** Export to this exporter (a SimpleSpanProcessor: each span as it ends), ignoring OTEL_* variables. Tests pass an InMemorySpanExporter. */
  exporter?: SpanExporter;
  /** The environment to read OTEL_* from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface TracingState {
  enabled: boolean;
  /** What spans go to: 'custom' for an exporter passed in. */
  exporters: Array<TraceExporterKind | 'custom'>;
  serviceName: string;
}

/**
 * Starts tracing for this process when the environment (or `opts.exporter`) asks for it and
 * registers the provider as the global one (context propagation across awaits included).
 * Calling it again while tracing is on changes nothing; call shutdownTracing() first.
 */
export async function initTracing(opts: TracingOptions = {}): Promise<TracingState> {
  starting ??= start(opts).finally(() => (starting = null));
  return starting;
}

async function start(opts: TracingOptions): Promise<TracingState> {
  const cfg = tracingConfigFromEnv(opts.env ?? process.env);
  if (provider !== null) return { enabled: true, exporters: currentExporters, serviceName: cfg.serviceName };
  for (const w of cfg.warnings) process.emitWarning(w, { code: 'QUARRY_OTEL' });
  const kinds: Array<TraceExporterKind | 'custom'> = opts.exporter ? ['custom'] : cfg.exporters;
  if (kinds.length === 0) return { enabled: false, exporters: [], serviceName: cfg.serviceName };

  // Loaded only now: a process that does not trace never pays for the SDK.
  const [{ NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter }, { defaultResource, detectResources, envDetector, resourceFromAttributes }] =
    await Promise.all([import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources')]);
  const processors: SpanProcessor[] = [];
  if (opts.exporter) processors.push(new SimpleSpanProcessor(opts.exporter));
  else {
    for (const kind of cfg.exporters) {
      if (kind === 'console') processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
      else {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
        // headers, timeout and batching come from the OTEL_* variables too, read by the SDK
        processors.push(new BatchSpanProcessor(new OTLPTraceExporter(cfg.otlpUrl === undefined ? {} : { url: cfg.otlpUrl })));
      }
    }
  }
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': cfg.serviceName }));
  const p = new NodeTracerProvider({ resource, spanProcessors: processors });
  p.register();
  const global = trace.getTracerProvider();
  ownsGlobals = global instanceof ProxyTracerProvider && global.getDelegate() === p;
  provider = p;
  tracer = p.getTracer(TRACER_NAME);
  currentExporters = kinds;
  return { enabled: true, exporters: kinds, serviceName: cfg.serviceName };
}

/** Flushes what is pending, stops the provider and unregisters it: spans go nowhere after this. */
export async function shutdownTracing(): Promise<void> {
  const p = provider;
  if (p === null) return;
  provider = null;
  tracer = null;
  currentExporters = [];
  try {
    await p.shutdown();
  } finally {
    if (ownsGlobals) {
      trace.disable();
      context.disable();
      propagation.disable();
      ownsGlobals = false;
    }
  }
}

/** True while initTracing has a provider running. */
export function tracingEnabled(): boolean {
  return provider !== null;
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t === undefined || t.length === 0 ? undefined : t;
}
