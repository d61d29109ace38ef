// stopword 3 ships no type declarations; this declares the list analyzer.ts uses.
declare module 'stopword' {
  /** English stopwords (lowercase). */
  export const eng: string[];
}
