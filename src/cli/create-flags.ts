/**
 * The flags that shape an env (used by `up` and `exec`, which create on demand),
 * turned into a layer of core/options.
 */
import type { Command } from 'commander';
import { defaultLayer, envVarLayer, resolveOptions, type Layer, type RawOptions, type ResolvedOptions } from '../core/options.js';

export interface CreateFlags {
  image?: string;
  publish: string[];
  forward: string[];
  user?: string;
  listen?: string;
  session?: string;
  label: string[];
  prefix?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addCreateFlags(cmd: Command, withForwards: boolean): Command {
  cmd
    .option('--image <ref>', "image to create the env from (default: spoon's embedded image)")
    .option('-p, --publish <port>', 'publish a container port: 3000 (engine picks the host port) or 8080:80; repeatable', collect, [])
    .option('--user <name>', 'login user in the container (default: dev)')
    .option('--listen <address>', 'address published ports bind to (default: 127.0.0.1)')
    .option('--session <name>', 'tmux session name (default: pair)')
    .option('--label <key=value>', 'extra label on the container and its volumes; repeatable', collect, [])
    .option('--prefix <prefix>', 'container name prefix (default: spoon-)');
  if (withForwards) cmd.option('-L, --forward <port>', 'forward a local port over ssh while attached: 3000 or 8080:80; repeatable', collect, []);
  return cmd;
}

export function flagLayer(flags: Partial<CreateFlags>): Layer {
  const flagNames: Record<keyof RawOptions, string> = {
    image: '--image',
    user: '--user',
    session: '--session',
    listen: '--listen',
    prefix: '--prefix',
    ports: '--publish',
    forwards: '--forward',
    labels: '--label',
  };
  const values: RawOptions = {
    image: flags.image,
    user: flags.user,
    session: flags.session,
    listen: flags.listen,
    prefix: flags.prefix,
    ports: flags.publish?.length ? flags.publish : undefined,
    forwards: flags.forward?.length ? flags.forward : undefined,
    labels: flags.label?.length ? flags.label : undefined,
  };
  return { source: 'flag', describe: (k) => flagNames[k], values };
}

export interface CliOptions extends ResolvedOptions {
  /** A setting that only applies at creation was given explicitly. */
  explicitSettings: boolean;
}

export function resolveCliOptions(flags: Partial<CreateFlags>, env: Record<string, string | undefined>): CliOptions {
  const resolved = resolveOptions([defaultLayer(), envVarLayer(env), flagLayer(flags)]);
  const creationKeys = ['image', 'user', 'listen', 'ports', 'labels', 'prefix'] as const;
  return { ...resolved, explicitSettings: creationKeys.some((k) => resolved.sources[k] !== 'default') };
}
