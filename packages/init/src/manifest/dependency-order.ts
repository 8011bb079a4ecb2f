/**
 * The `requires` graph of a manifest: its mistakes (unknown requirements, a
 * component requiring itself, cycles) and the order components start in.
 *
 * An edge goes from a component to each component it requires; "init" (the
 * supervisor) may always be required and is always ready, so it is not part
 * of the graph.
 */
import { INIT_NAME } from "./manifest.js";

/** What the graph needs of a component. */
export interface DependencyNode {
  name: string;
  requires: readonly string[];
}

/** One mistake in the graph. */
export type DependencyProblem =
  /** `component` requires `requirement`, which is not declared (index: in its requires list). */
  | { kind: "unknown"; component: string; requirement: string; index: number }
  /** `component` requires itself (index: in its requires list). */
  | { kind: "self"; component: string; index: number }
  /** The components of `cycle` require each other in turn, the last requiring the first. */
  | { kind: "cycle"; cycle: string[] };

/** A cycle as it is printed: `a -> b -> c -> a`. */
export function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0] ?? ""].join(" -> ");
}

/** The edges between declared components, without self edges and without "init". */
function edges(nodes: readonly DependencyNode[]): Map<string, string[]> {
  const declared = new Set(nodes.map((node) => node.name));
  const graph = new Map<string, string[]>();
  for (const node of nodes) {
    if (graph.has(node.name)) continue; // a duplicate name is reported elsewhere
    const targets: string[] = [];
    for (const requirement of node.requires) {
      if (requirement === node.name || requirement === INIT_NAME || !declared.has(requirement)) continue;
      if (!targets.includes(requirement)) targets.push(requirement);
    }
    graph.set(node.name, targets);
  }
  return graph;
}

/** The strongly connected components of the graph (Tarjan), each in discovery order. */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;

  // Iterative, so that a long chain cannot overflow the call stack.
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter++;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = graph.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter);
          counter++;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const members: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          members.push(member);
        } while (member !== frame.node);
        result.push(members);
      }
    }
  }
  return result;
}

/** The shortest cycle through `start` inside `members` (breadth first), start first. */
function cycleThrough(start: string, members: Set<string>, graph: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [node];
        for (let at = node; at !== start; ) {
          at = previous.get(at)!;
          path.push(at);
        }
        return path.reverse();
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start]; // not reached: every member of a strongly connected component is on a cycle
}

/**
 * The mistakes in the `requires` graph, all of them: unknown requirements and
 * self requirements in declaration order, then one cycle for each group of
 * components that require each other, starting at the first declared one.
 */
export function checkDependencies(nodes: readonly DependencyNode[]): DependencyProblem[] {
  const problems: DependencyProblem[] = [];
  const declared = new Set(nodes.map((node) => node.name));
  for (const node of nodes) {
    node.requires.forEach((requirement, index) => {
      if (requirement === node.name) problems.push({ kind: "self", component: node.name, index });
      else if (requirement !== INIT_NAME && !declared.has(requirement)) {
        problems.push({ kind: "unknown", component: node.name, requirement, index });
      }
    });
  }
  const graph = edges(nodes);
  const order = new Map(nodes.map((node, position) => [node.name, position]));
  const cycles: string[][] = [];
  for (const group of stronglyConnected(graph)) {
    if (group.length < 2) continue;
    const start = group.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
    cycles.push(cycleThrough(start, new Set(group), graph));
  }
  cycles.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
  for (const cycle of cycles) problems.push({ kind: "cycle", cycle });
  return problems;
}

/**
 * The start order: waves of components. Every component of a wave requires
 * only components of earlier waves (or "init"), so the components of one wave
 * can start in parallel once the earlier waves are ready; each wave is in
 * declaration order. A component is in the earliest wave its requirements
 * allow (its wave is the length of its longest chain of requirements).
 * Stop in the reverse order.
 *
 * Throws when the graph has a mistake: check it with checkDependencies first.
 */
export function startOrder(nodes: readonly DependencyNode[]): string[][] {
  const problems = checkDependencies(nodes);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new Error(
      first.kind === "cycle"
        ? `dependency cycle: ${formatCycle(first.cycle)}`
        : first.kind === "self"
          ? `${first.component} requires itself`
          : `${first.component} requires ${first.requirement}, which is not declared`,
    );
  }
  const graph = edges(nodes);
  const waves: string[][] = [];
  const placed = new Set<string>();
  let remaining = [...graph.keys()];
  while (remaining.length > 0) {
    const wave = remaining.filter((name) => graph.get(name)!.every((requirement) => placed.has(requirement)));
    if (wave.length === 0) throw new Error("dependency cycle"); // not reached: checked above
    for (const name of wave) placed.add(name);
    remaining = remaining.filter((name) => !placed.has(name));
    waves.push(wave);
  }
  return waves;
}
