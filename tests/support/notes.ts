/** A few short notes with metadata, for the framework adapters' tests (real model, real search). */
export const NOTES = [
  { id: 'rust', text: 'The borrow checker in Rust enforces memory safety without a garbage collector.', metadata: { lang: 'en', topic: 'code', year: 2021 } },
  { id: 'bread', text: 'Sourdough bread rises slowly because wild yeast ferments the dough overnight.', metadata: { lang: 'en', topic: 'food', year: 2019 } },
  { id: 'tides', text: 'Ocean tides follow the gravitational pull of the moon and the sun.', metadata: { lang: 'en', topic: 'science', year: 2023 } },
  { id: 'cheese', text: 'Le fromage affiné en cave développe une croûte et des arômes plus forts.', metadata: { lang: 'fr', topic: 'food', year: 2020 } },
];

export const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
export const BGE = 'BAAI/bge-small-en-v1.5';
