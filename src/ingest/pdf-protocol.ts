/** Messages between pdf.ts (main thread) and pdf-worker.ts (a worker thread). */

export interface PdfRequest {
  id: number;
  data: Uint8Array;
}

export type PdfResponse =
  | { id: number; ok: true; pages: string[]; info: Record<string, unknown> }
  | { id: number; ok: false; errorName: string; message: string };
