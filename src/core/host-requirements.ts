/**
 * devcontainer.json's `hostRequirements`, checked against what the engine's host
 * offers before an env is created. The devcontainers CLI leaves this to the cloud
 * that picks a machine; spoon has one engine, so it refuses early, with the numbers,
 * instead of making an env that cannot do its work.
 */
import type { HostRequirements } from '../config/devcontainer.js';
import type { EngineResources } from '../engine/engine.js';

/**
 * The kernel keeps some memory for itself, so MemTotal is a little under what a machine
 * is sold as (a 16 GiB machine reports about 15.5 GiB): memory counts as met at 95%.
 */
export const MEMORY_SLACK = 0.95;

/** One line per requirement the engine does not meet; none when all are met. */
export function unmetRequirements(req: HostRequirements, has: EngineResources): string[] {
  const out: string[] = [];
  if (req.cpus && has.cpus < req.cpus.count) {
    out.push(`${req.cpus.where}: hostRequirements.cpus asks for ${req.cpus.count} CPUs; the engine has ${has.cpus}`);
  }
  if (req.memory && has.memory < req.memory.bytes * MEMORY_SLACK) {
    out.push(`${req.memory.where}: hostRequirements.memory asks for ${req.memory.text} (${gib(req.memory.bytes)}); the engine has ${gib(has.memory)}`);
  }
  return out;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
