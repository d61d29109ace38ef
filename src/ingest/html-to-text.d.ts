// html-to-text 10 ships no type declarations; this declares the part of its API that
// html.ts uses (see the package's README, "Options" and "Selectors").
declare module 'html-to-text' {
  export interface SelectorDefinition {
    selector: string;
    format?: string;
    options?: Record<string, unknown>;
  }
  export interface HtmlToTextOptions {
    wordwrap?: number | false | null;
    decodeEntities?: boolean;
    preserveNewlines?: boolean;
    baseElements?: { selectors?: string[]; orderBy?: 'selectors' | 'occurrence'; returnDomByDefault?: boolean };
    limits?: {
      ellipsis?: string;
      maxBaseElements?: number;
      maxChildNodes?: number;
      maxDepth?: number;
      maxInputLength?: number;
    };
    selectors?: SelectorDefinition[];
  }
  export function compile(options?: HtmlToTextOptions): (html: string) => string;
  export function convert(html: string, options?: HtmlToTextOptions): string;
}
