import { InvalidArgumentError } from 'commander';

export function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

export function floatArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };
}

export interface CollectionFlags {
  data: string;
  collection: string;
  models?: string;
}

export function collectionOptions(o: CollectionFlags) {
  return { dataDir: o.data, collection: o.collection, modelsDir: o.models };
}
