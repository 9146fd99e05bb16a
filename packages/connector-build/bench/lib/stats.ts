/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function min(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

/** Quantile with linear interpolation between closest ranks (q in [0, 1]). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Median, quartiles, min and max of repeated measurements. */
export interface Summary {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), p25: quantile(values, 0.25), p75: quantile(values, 0.75), min: min(values), max: max(values), values: [...values] };
}

export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function megabytes(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1e6).toFixed(1)} MB` : "–";
}

export function ratio(value: number, reference: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return "–";
  return `${(value / reference).toFixed(2)}×`;
}

/** ` [min–max]` of a summary with several values, else nothing. */
export function spread(s: Summary): string {
  return s.values.length > 1 ? ` [${seconds(s.min)}–${seconds(s.max)}]` : "";
}

/** Whether two sets of measurements' interquartile ranges overlap: then the medians' order is within run-to-run noise. */
export function overlapNote(a: Summary, b: Summary): string {
  if (a.values.length < 2 || b.values.length < 2) return "";
  return a.p25 <= b.p75 && b.p25 <= a.p75
    ? "; interquartile ranges overlap: the difference is within run-to-run noise"
    : "; interquartile ranges do not overlap";
}
