/**
 * Alternation: in each round every peer is measured once, in an order that
 * rotates from round to round, so that no peer always runs first (on a cold
 * machine) or last (after the others warmed it or heated it).
 */

/** The peers in the order to measure them in round (0-based): items rotated left by round. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Measurements of several peers over rounds: per peer, one value per round (undefined when it failed). */
export class RoundSamples<P extends string> {
  private readonly values = new Map<P, (number | undefined)[]>();

  constructor(readonly peers: readonly P[], readonly rounds: number) {
    for (const peer of peers) this.values.set(peer, new Array<number | undefined>(rounds).fill(undefined));
  }

  /** Records peer's value in round. */
  set(peer: P, round: number, value: number): void {
    this.values.get(peer)![round] = value;
  }

  /** The per-round values of peer, undefined where the round failed. */
  of(peer: P): (number | undefined)[] {
    return this.values.get(peer) ?? [];
  }

  /** The values of peer that were measured. */
  measured(peer: P): number[] {
    return this.of(peer).filter((v): v is number => v !== undefined);
  }
}
