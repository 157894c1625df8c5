/**
 * What an env is made from: the resolved options, where its image comes from,
 * and what a devcontainer.json adds beyond spoon's own keys. Its hash is the
 * env's config-hash label, so a change to any of it is noticed.
 */
import { join, resolve } from 'node:path';
import { configHash } from '../config/layers.js';
import type { EnvOptions } from '../config/schema.js';
import type { Devcontainer, UserEnvProbe } from '../config/devcontainer.js';
import type { ImageSource } from '../images/ensure-image.js';

export interface EnvPlan {
  options: EnvOptions;
  image: ImageSource;
  devcontainer: Devcontainer | undefined;
  /** `up --from NAME:TAG`: the new env's volumes start as this snapshot's (its image is options.image). */
  from?: { name: string; tag: string };
}

export function planEnv(options: EnvOptions, devcontainer: Devcontainer | undefined): EnvPlan {
  return { options, image: imageSource(options, devcontainer), devcontainer };
}

function imageSource(o: EnvOptions, dc: Devcontainer | undefined): ImageSource {
  if (o.image !== undefined) return { kind: 'ref', ref: o.image };
  if (o.builddir !== undefined) {
    const context = resolve(o.builddir);
    return { kind: 'build', context, dockerfile: join(context, 'Dockerfile'), args: {}, target: undefined, tag: undefined };
  }
  if (dc?.build) return { kind: 'build', context: dc.build.context, dockerfile: dc.build.dockerfile, args: dc.build.args, target: dc.build.target, tag: undefined };
  return { kind: 'default' };
}

export function planHash(plan: EnvPlan): string {
  const dc = plan.devcontainer;
  const extra = dc
    ? { build: dc.build ?? null, capAdd: dc.capAdd, securityOpt: dc.securityOpt, init: dc.init, remoteEnv: dc.remoteEnv, ...(dc.userEnvProbe ? { userEnvProbe: dc.userEnvProbe } : {}), lifecycle: hashedLifecycle(dc), workspaceMount: dc.workspaceMount ?? null, ...((dc.features ?? []).length > 0 ? { features: dc.features, featureOrder: dc.featureOrder } : {}) }
    : undefined;
  return configHash(plan.options, extra);
}

/**
 * The commands that make an env what it is. initializeCommand (host) and postAttachCommand
 * (each attach) do not; an updateContentCommand counts only when there is one, so envs made
 * before spoon ran it keep their hash.
 */
function hashedLifecycle(dc: Devcontainer): Record<string, unknown> {
  const l = dc.lifecycle;
  const updateContent = l.updateContent ?? [];
  return { onCreate: l.onCreate, postCreate: l.postCreate, postStart: l.postStart, ...(updateContent.length > 0 ? { updateContent } : {}) };
}

/** The plan as a label value: healing recreates an env from it rather than from today's settings. */
export function encodePlan(plan: EnvPlan): string {
  const { from: _from, ...rest } = plan;
  return JSON.stringify(rest);
}

/**
 * The plan a container was made from, when its label holds one that still hashes to the
 * container's config-hash label (anything else, e.g. an env made by an older spoon, is undefined).
 */
export function decodePlan(label: string | undefined, expectedHash: string | undefined): EnvPlan | undefined {
  if (!label || !expectedHash) return undefined;
  try {
    const plan = JSON.parse(label) as EnvPlan;
    if (!(plan && typeof plan === 'object' && plan.options && plan.image && planHash(plan) === expectedHash)) return undefined;
    // A plan written before spoon ran every lifecycle command lacks some: none of them.
    const dc = plan.devcontainer;
    if (dc) {
      const none: Devcontainer['lifecycle'] = { initialize: [], onCreate: [], updateContent: [], postCreate: [], postStart: [], postAttach: [] };
      dc.lifecycle = Object.assign(none, dc.lifecycle);
      dc.waitFor ??= 'updateContentCommand';
      dc.hostRequirements ??= {};
    }
    return plan;
  } catch {
    return undefined;
  }
}

/** userEnvProbe as sessions apply it: devcontainer.json's, else the devcontainers CLI's default there; spoon's own config probes nothing. */
export function userEnvProbeOf(plan: EnvPlan): UserEnvProbe {
  return plan.devcontainer ? (plan.devcontainer.userEnvProbe ?? 'loginInteractiveShell') : 'none';
}

/** The folder sessions start in: the devcontainer's workspace, else the home. */
export function workdirOf(plan: EnvPlan): string | undefined {
  return plan.devcontainer?.containerWorkspaceFolder;
}
