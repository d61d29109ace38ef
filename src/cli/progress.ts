import cliProgress from 'cli-progress';

/**
 * Formats the ETA: cli-progress hands over seconds, or 'INF'/'NULL' (and '0' before the first
 * update) while no work has been measured yet, which its default would print as "NFs"; until
 * the rate is known the bar says "--".
 */
export function formatEta(eta: unknown, options: cliProgress.Options, roundTo: number): string {
  if (typeof eta !== 'number' || !Number.isFinite(eta)) return '--';
  return cliProgress.Format.TimeFormat(eta, options, roundTo);
}

/** Where the bar draws: stderr, or a stream a test hands in. */
type BarStream = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * A progress bar on stderr for long work (cli-progress). Shown only on a terminal, so logs
 * and pipes stay clean; `--quiet` hides it too.
 */
export function createProgressBar(label: string, enabled: boolean, stream: BarStream = process.stderr) {
  if (!enabled || !stream.isTTY) {
    return { update: (_v: number, _p?: Record<string, unknown>) => undefined, setTotal: (_t: number) => undefined, stop: () => undefined };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {percentage}% | {valueMB}/{totalMB} MB | {documents} docs | {chunks} chunks | ETA {eta_formatted}`,
      formatTime: formatEta,
      stream,
      hideCursor: true,
      // the rate over the last 20 updates: each update is one committed batch of chunks
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { valueMB: '0.0', totalMB: '0.0', documents: 0, chunks: 0 });
  return {
    update: (v: number, payload?: Record<string, unknown>) => bar.update(v, payload),
    setTotal: (t: number) => bar.setTotal(Math.max(1, t)),
    stop: () => bar.stop(),
  };
}

/** An ingest's progress (bytes, documents, chunks) drawn on a bar from createProgressBar. */
export function showIngestProgress(bar: ReturnType<typeof createProgressBar>) {
  return (p: { bytesDone: number; bytesTotal: number; documents: number; chunks: number }) => {
    bar.setTotal(p.bytesTotal);
    bar.update(p.bytesDone, { valueMB: (p.bytesDone / 1e6).toFixed(1), totalMB: (p.bytesTotal / 1e6).toFixed(1), documents: p.documents, chunks: p.chunks });
  };
}

/** A counting progress bar on stderr ("label |███| 120/300 hybrid"), same rules as above. */
export function createCountBar(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { update: (_v: number, _t: number, _label: string) => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: '{label} |{bar}| {value}/{total} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { label: '' });
  return {
    update: (v: number, t: number, label: string) => {
      bar.setTotal(Math.max(1, t));
      bar.update(v, { label });
    },
    stop: () => bar.stop(),
  };
}
